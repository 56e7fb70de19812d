import Foundation
import Testing

@testable import HappyKit

/// `happy auth logout`: asks first (or refuses without a TTY), stops the daemon politely then by signal, removes only
/// what it owns, and removes the home only when nothing else is left in it.
@Suite struct LogoutFlowTests {
    let sandbox = Sandbox()
    let timing = TestTiming()
    var home: HappyHome { sandbox.home }

    private func logOut(
        console: Console, assumeYes: Bool = true, transport: StubTransport? = nil,
        daemon: FakeDaemon? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let context = HappyContext.test(
            home: home, console: console, transport: transport, timing: timing,
            processes: daemon?.control, sourceLocation: sourceLocation)
        try await LogoutFlow(context: context).run(assumeYes: assumeYes)
    }

    private func writeLogin(settings: String = "{\n  \"machineId\": \"m-1\"\n}") throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: home.accessKeyPath)
        try sandbox.write(settings, to: home.settingsPath)
    }

    private func writeDaemonState(pid: Int32 = 4242, port: Int = 5555) throws {
        try sandbox.write(
            #"{"pid": \#(pid), "httpPort": \#(port), "startTime": "t", "startedWithCliVersion": "0.10.0"}"#,
            to: home.daemonStatePath)
    }

    @Test func saysSoWhenNotLoggedIn() async throws {
        let (console, screen) = Console.recording()
        try await logOut(console: console, assumeYes: false)
        #expect(screen.out == ["Not logged in; nothing to remove."])
        #expect(!sandbox.exists(home.path))
    }

    @Test func refusesWithoutYesWhenNotATerminal() async throws {
        try writeLogin()
        let (console, _) = Console.recording(terminal: false)
        let error = await #expect(throws: HappyError.self) { try await logOut(console: console, assumeYes: false) }
        #expect(error?.exitStatus == .usage)
        #expect(error?.userMessage.contains("--yes") == true)
        #expect(sandbox.listing(home.path) == ["access.key", "settings.json"])
    }

    @Test func asksOnATerminalAndStopsOnNo() async throws {
        try writeLogin()
        let (console, screen) = Console.recording(stdin: ["n"], terminal: true)
        try await logOut(console: console, assumeYes: false)
        #expect(screen.errRaw.last == "Are you sure you want to log out? (y/N): ")
        #expect(screen.err.last == "Logout cancelled; nothing was changed.")
        #expect(sandbox.listing(home.path) == ["access.key", "settings.json"])
    }

    @Test(arguments: ["y", "YES", " yes "])
    func asksOnATerminalAndGoesOnYes(answer: String) async throws {
        try writeLogin()
        let (console, screen) = Console.recording(stdin: [answer], terminal: true)
        try await logOut(console: console, assumeYes: false)
        #expect(!sandbox.exists(home.path))
        #expect(screen.out.last == "Logged out.")
    }

    @Test func removesTheHomeWhenNothingElseIsLeft() async throws {
        try writeLogin()
        let (console, screen) = Console.recording()
        try await logOut(console: console)
        #expect(!sandbox.exists(home.path))
        #expect(
            screen.out == [
                "✓ Removed credentials", "✓ Removed machine ID", "✓ Removed \(home.path) (it was empty)", "Logged out.",
            ])
    }

    @Test func keepsForeignFilesOtherSettingsAndTheHome() async throws {
        try writeLogin(settings: "{\n  \"schemaVersion\": 2,\n  \"machineId\": \"m-1\"\n}")
        try sandbox.write("log", to: home.path + "/daemon.log")
        try sandbox.write("{}", to: home.path + "/logs/x.json")
        let (console, screen) = Console.recording()
        try await logOut(console: console)
        #expect(sandbox.listing(home.path) == ["daemon.log", "logs", "settings.json"])
        #expect(sandbox.read(home.settingsPath) == "{\n  \"schemaVersion\": 2\n}")
        #expect(sandbox.read(home.path + "/daemon.log") == "log")
        #expect(screen.out.contains("Kept \(home.path): other files remain in it"))
    }

    @Test func removesAStaleDaemonStateWithoutSignalling() async throws {
        try writeLogin()
        try writeDaemonState()
        let daemon = FakeDaemon(alive: false)
        let (console, screen) = Console.recording()
        try await logOut(console: console, daemon: daemon)  // no transport: a dead daemon is not asked to stop
        #expect(daemon.signals.isEmpty)
        #expect(!sandbox.exists(home.path))
        #expect(!screen.stdout.contains("Stopped"))
    }

    @Test func logsOutWhenOnlyAStaleDaemonStateIsLeft() async throws {
        try writeDaemonState()
        let (console, _) = Console.recording()
        try await logOut(console: console, daemon: FakeDaemon(alive: false))
        #expect(!sandbox.exists(home.path))
    }

    @Test func stopsARunningDaemonWithPostStopThenWaits() async throws {
        try writeLogin()
        try writeDaemonState(port: 5555)
        let daemon = FakeDaemon()
        let transport = StubTransport()
        transport.on("POST", "/stop") { [home] request in
            #expect(request.url == "http://127.0.0.1:5555/stop")
            #expect(request.body == Array("{}".utf8))
            daemon.stop()
            try? FileManager.default.removeItem(atPath: home.daemonStatePath)  // as the daemon does on its way out
            return .json(200, #"{"status":"stopping"}"#)
        }
        let (console, screen) = Console.recording()
        try await logOut(console: console, transport: transport, daemon: daemon)
        #expect(daemon.signals.isEmpty)
        #expect(screen.out.first == "✓ Stopped the happy daemon")
        #expect(!sandbox.exists(home.path))
        #expect(transport.madeWith.map(\.useProxy) == [false])  // a loopback call never goes through a proxy
        #expect(transport.shutdowns == 1)
        transport.verifyConsumed()
    }

    @Test func waitsForADaemonThatTakesItsTimeAfterStop() async throws {
        try writeLogin()
        try writeDaemonState()
        let transport = StubTransport()
        transport.on("POST", "/stop", reply: .json(200, "{}"))
        let clock = timing
        let slowDaemon = ProcessControl(  // exits 2 s (of fake time) after the start, leaving its state file behind
            isAlive: { pid in pid == 4242 && clock.elapsed < .seconds(2) },
            signal: { pid, sig in
                Issue.record("signal \(sig) sent to \(pid)"); return false
            },
            proveDaemon: { pid, _ in .proven("pid \(pid) is the fake daemon") })
        let (console, screen) = Console.recording()
        let context = HappyContext.test(
            home: home, console: console, transport: transport, timing: timing, processes: slowDaemon)
        try await LogoutFlow(context: context).run(assumeYes: true)
        #expect(timing.elapsed == .seconds(2))
        #expect(timing.sleeps.allSatisfy { $0 == .milliseconds(100) })
        #expect(screen.out.first == "✓ Stopped the happy daemon")
        #expect(!sandbox.exists(home.path))  // the stopped daemon's stale state file is removed too
    }

    @Test func signalsADaemonThatDoesNotAnswerStop() async throws {
        try writeLogin()
        try writeDaemonState()
        let daemon = FakeDaemon(diesOnSignal: true)
        let transport = StubTransport()
        transport.on(
            "POST", "/stop", fail: HappyError.serverUnreachable(server: "daemon", reason: "connection refused"))
        let (console, screen) = Console.recording()
        try await logOut(console: console, transport: transport, daemon: daemon)
        #expect(daemon.signals == [SIGTERM])
        #expect(screen.out.first == "✓ Stopped the happy daemon")
        #expect(!sandbox.exists(home.path))  // the state file of the killed daemon went with it
    }

    @Test func escalatesToSIGKILLAndGivesUpLoudly() async throws {
        try writeLogin()
        try writeDaemonState()
        let daemon = FakeDaemon()  // ignores every signal
        let transport = StubTransport()
        transport.on("POST", "/stop", reply: .json(200, "{}"))
        let (console, _) = Console.recording()
        let error = await #expect(throws: HappyError.self) {
            try await logOut(console: console, transport: transport, daemon: daemon)
        }
        #expect(error?.exitStatus == .failure)
        #expect(daemon.signals == [SIGTERM, SIGKILL])
        #expect(sandbox.exists(home.accessKeyPath))  // nothing removed while the daemon still runs
        #expect(timing.elapsed <= .seconds(11))
    }

    @Test func neverSignalsAPidThatIsNotAHappyProcess() async throws {
        try writeLogin()
        try writeDaemonState()
        let daemon = FakeDaemon(commandLine: "/usr/lib/postgresql/bin/postgres")
        let transport = StubTransport()
        transport.on(
            "POST", "/stop", fail: HappyError.serverUnreachable(server: "daemon", reason: "connection refused"))
        let (console, screen) = Console.recording()
        try await logOut(console: console, transport: transport, daemon: daemon)
        #expect(daemon.signals.isEmpty)
        #expect(
            screen.stderr.contains("is not a happy daemon") && screen.stderr.contains("was not stopped or signalled"))
        #expect(!sandbox.exists(home.accessKeyPath))
        #expect(sandbox.exists(home.daemonStatePath))  // it describes a live process we did not stop
    }
}
