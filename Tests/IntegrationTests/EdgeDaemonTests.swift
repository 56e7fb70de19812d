import Foundation
import HappyKit
import Testing

/// PROTOCOL §3: only a pid shown to be this home's happy daemon is asked to stop or signalled. Real processes
/// throughout: an unrelated `sleep` behind a state file whose port answers `/stop` with 200, a process whose argv
/// merely says "happy", a reused pid, and a daemon stand-in holding its lock as the TypeScript daemon does.
@Suite("edges: the daemon", .serialized)
struct EdgeDaemonTests {
    func env(_ home: String) -> [String: String] { TestEnvironment.clean(["HAPPY_HOME_DIR": home]) }

    func writeState(_ home: String, pid: Int32, port: Int) throws {
        try #"{"pid": \#(pid), "httpPort": \#(port), "startTime": "t", "startedWithCliVersion": "1"}"#
            .write(toFile: home + "/daemon.state.json", atomically: true, encoding: .utf8)
    }

    func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test func anUnrelatedProcessBehindAStateFileIsNeverSignalledEvenWhenStopAnswers200() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let victim = try Spawned("/bin/sleep", ["300"], environment: [:], in: scratch.path)
        defer { kill(victim.process.processIdentifier, SIGKILL); victim.process.waitUntilExit() }
        // Any local server answering 200 to POST /stop: a stand-in that stays up (it does not own the victim's pid).
        let answering = try await DaemonStandIn(
            home: scratch.path + "/other", in: scratch, ["--stop", "ignore", "--no-lock"])
        defer { answering.stopNow() }
        try writeState(home, pid: victim.process.processIdentifier, port: answering.port)

        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(alive(victim.process.processIdentifier), "the unrelated process must survive")
        #expect(!logout.stdout.contains("Stopped the happy daemon"))
        #expect(logout.stderr.contains("was not stopped or signalled"), "\(logout.stderr)")
        #expect(FileManager.default.fileExists(atPath: home + "/daemon.state.json"), "a foreign state is left alone")
        #expect(!FileManager.default.fileExists(atPath: home + "/access.key"))

        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env(home), in: scratch.path)
        let daemon = try JSONParser.parse(status.stdout.trimmingCharacters(in: .newlines))["daemon"]
        #expect(daemon?["running"]?.boolValue == false)
        #expect(daemon?["note"]?.stringValue?.contains("is not a happy daemon") == true)
    }

    @Test func happyInTheCommandLineProvesNothing() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let victim = try Spawned(
            "/usr/bin/env", ["python3", "-c", "import time; time.sleep(300)", "happy", "daemon", "happy"],
            environment: TestEnvironment.clean(), in: scratch.path)
        defer { kill(victim.process.processIdentifier, SIGKILL); victim.process.waitUntilExit() }
        try await Task.sleep(for: .milliseconds(200))
        try writeState(home, pid: victim.process.processIdentifier, port: 9)  // nothing listens on port 9

        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(alive(victim.process.processIdentifier))
        #expect(logout.stderr.contains("is not a happy daemon"), "\(logout.stderr)")
    }

    /// A process that looks like the daemon but started after the state file was written is a reused pid.
    @Test func aReusedPidWithADaemonCommandLineIsNotSignalled() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let impostor = try await DaemonStandIn(
            home: home, in: scratch, ["--no-lock", "--no-state", "--stop", "ignore"])
        defer { impostor.stopNow() }
        try writeState(home, pid: impostor.pid, port: impostor.port)
        let written = Date().addingTimeInterval(-3600)  // the state file predates the process by an hour
        try FileManager.default.setAttributes([.modificationDate: written], ofItemAtPath: home + "/daemon.state.json")

        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(impostor.isRunning)
        #expect(logout.stderr.contains("reused pid"), "\(logout.stderr)")
    }

    @Test func theDaemonHoldingItsLockIsAskedToStopAndStops() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let daemon = try await DaemonStandIn(home: home, in: scratch)
        defer { daemon.stopNow() }

        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env(home), in: scratch.path)
        let report = try JSONParser.parse(status.stdout.trimmingCharacters(in: .newlines))
        #expect(report["daemon"]?["running"]?.boolValue == true)
        #expect(report["daemon"]?["pid"]?.intValue == Int(daemon.pid))

        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(logout.stdout.contains("Stopped the happy daemon"))
        #expect(await daemon.spawned.wait(seconds: 5) == 0, "it exited on /stop")
        #expect(!FileManager.default.fileExists(atPath: home), "state, lock and credentials gone, so the home too")
    }

    /// /stop answered but ignored, SIGTERM ignored: the proven daemon is killed, and the whole logout stays short.
    @Test func aStubbornProvenDaemonIsKilled() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let daemon = try await DaemonStandIn(home: home, in: scratch, ["--stop", "ignore", "--ignore-term"])
        defer { daemon.stopNow() }
        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path,
            seconds: 30)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(logout.stdout.contains("Stopped the happy daemon"))
        #expect(!daemon.isRunning)
        #expect(
            !FileManager.default.fileExists(atPath: home), "the killed daemon's state and lock were stale and removed")
    }

    /// Proof by command line alone (no lock): `daemon start-sync`, started before its state file was written.
    @Test func aDaemonProvenByItsCommandLineIsStopped() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let daemon = try await DaemonStandIn(home: home, in: scratch, ["--no-lock"])
        defer { daemon.stopNow() }
        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(logout.stdout.contains("Stopped the happy daemon"))
        #expect(await daemon.spawned.wait(seconds: 5) == 0)
    }

    /// A /stop endpoint that trickles cannot hold logout: the call is bounded (3 s), then the proven daemon is
    /// signalled.
    @Test func aTricklingStopCannotHoldLogout() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let daemon = try await DaemonStandIn(home: home, in: scratch, ["--stop", "trickle"])
        defer { daemon.stopNow() }
        let started = Date()
        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(home), in: scratch.path,
            seconds: 30)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(Date().timeIntervalSince(started) < 10, "logout took \(Date().timeIntervalSince(started)) s")
        #expect(!daemon.isRunning)
    }
}
