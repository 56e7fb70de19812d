import Foundation
import HappyKit
import Testing

/// Signals with the real binary: SIGINT, SIGTERM and SIGHUP while waiting (the real cancellation path, not the
/// fallback), a signal in the middle of the credential write (held off until both files are in place), and the
/// browser child's clean start (empty signal mask, default dispositions, no inherited descriptors).
@Suite("edges: signals and children", .serialized)
struct EdgeSignalsTests {
    func env(_ home: String, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": home].merging(extra) { $1 })
    }

    func startLogin(
        _ scratch: Scratch, _ server: LocalServer, executable: String = Binaries.happy, prefix: [String] = [],
        extra: [String: String] = [:]
    ) async throws -> (Spawned, String) {
        let login = try Spawned(
            executable,
            prefix
                + [Binaries.happy, "auth", "login", "--method", "mobile", "--timeout", "60"]
                .dropFirst(prefix.isEmpty ? 1 : 0),
            environment: env(scratch.home, ["HAPPY_SERVER_URL": server.url].merging(extra) { $1 }),
            in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        return (login, String(url))
    }

    /// 130, 143, 129: the work is cancelled and unwinds (its own message), nothing is written.
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalWhileWaitingEndsTheLoginWithNothingWritten(signal: Int32) async throws {
        let status = 128 + signal  // 130, 143, 129
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, _) = try await startLogin(scratch, server)
        kill(login.process.processIdentifier, signal)
        #expect(await login.wait(seconds: 10) == status)
        #expect(login.stderr.contains("happy: interrupted; nothing was written."), "the real path: \(login.stderr)")
        #expect(!login.stderr.contains("stopped by signal"), "not the fallback exit")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    /// A signal while the login waits for another writer's lock (before the write): it ends, nothing written.
    @Test func aSignalBeforeTheWriteLeavesNothing() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (holder, _) = try await holdHomeLock(in: scratch)
        defer { holder.stopNow(SIGKILL) }
        let (login, url) = try await startLogin(scratch, server)
        #expect(try await server.approve(url) == 0)
        try await login.waitForErrorOutput { $0.contains("Another happy process is writing") }
        kill(login.process.processIdentifier, SIGTERM)
        #expect(await login.wait(seconds: 10) == 143, "\(login.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scratch.home).filter { !$0.hasPrefix("release") }
                .isEmpty)
    }

    /// Signals during the write itself: each fsync is slowed by 1.5 s (strace's fault injection), the test waits
    /// until the first temporary file exists, then sends SIGTERM twice. The write completes: both files, exit 0, no
    /// temporary file. Without the guard, the second signal (or the 2-second fallback) would exit mid-write.
    @Test(.enabled(if: Probe.ptracePermitted, "ptrace is not permitted here: strace cannot slow the write"))
    func signalsDuringTheWriteLetItFinishWhole() async throws {
        try requireTool("/usr/bin/strace", package: "strace")
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(
            scratch, server, executable: "/usr/bin/strace",
            prefix: ["-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:delay_enter=1500000"])
        let happyPid = try #require(child(of: login.process.processIdentifier))
        #expect(try await server.approve(url) == 0)
        // Event-driven: the moment the first temporary credential file exists, the write is under way.
        let deadline = Date().addingTimeInterval(20)
        while !(((try? FileManager.default.contentsOfDirectory(atPath: scratch.home)) ?? []).contains {
            $0.hasPrefix(".access.key.tmp-")
        }) {
            try #require(Date() < deadline, "the write never started: \(login.stderr)")
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(happyPid, SIGTERM)
        try await Task.sleep(for: .milliseconds(50))
        kill(happyPid, SIGTERM)
        #expect(await login.wait(seconds: 30) == 0, "\(login.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.home).sorted()
        #expect(files == ["access.key", "settings.json"], "\(files)")
        #expect(login.stdout.contains("Logged in"))
    }

    /// `$BROWSER` starts with an empty signal mask, default dispositions and only stdin/stdout/stderr open.
    @Test func theBrowserChildStartsClean() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let report = scratch.path + "/browser-report"
        let probe = scratch.path + "/probe.sh"
        try """
        #!/bin/sh
        # The shell reads its own status with builtins only: while it forks a command, dash blocks every
        # signal for a moment, which a concurrent reader would see.
        while IFS= read -r line; do case "$line" in SigBlk*|SigIgn*) echo "$line";; esac; done < /proc/$$/status > \(report).tmp
        ls -l /proc/$$/fd >> \(report).tmp
        mv \(report).tmp \(report)
        """.write(toFile: probe, atomically: true, encoding: .utf8)
        chmod(probe, 0o755)
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "web", "--timeout", "30"],
            environment: env(scratch.home, ["HAPPY_SERVER_URL": server.url, "BROWSER": probe]),
            in: scratch.path)
        defer { login.stopNow(SIGKILL) }
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: report) {
            try #require(Date() < deadline, "the browser never ran: \(login.stderr)")
            try await Task.sleep(for: .milliseconds(20))
        }
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").map(String.init)
        // Signals 1–31 (the low 31 bits); 32 and 33 are glibc's own and cannot be changed by any program.
        func bits(_ name: String) -> UInt64? {
            lines.first { $0.hasPrefix(name + ":") }.flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
        }
        #expect(bits("SigBlk") == 0, "\(lines)")
        #expect(bits("SigIgn").map { $0 & 0x7FFF_FFFF } == 0, "\(lines)")
        // `ls -l` of the shell's descriptors: 0–2 (/dev/null or the report), and the shell's own ones at 10 and above
        // (its script, and its saved copy of stdout while `>>` is in effect); nothing else.
        let inherited = lines.filter { $0.contains(" -> ") }.filter { line in
            let parts = line.components(separatedBy: " -> ")
            guard let fd = parts[0].split(separator: " ").last.flatMap({ Int($0) }) else { return true }
            return fd > 2 && !(fd >= 10 && (parts[1].hasSuffix("probe.sh") || parts[1] == "/dev/null"))
        }
        #expect(inherited.isEmpty, "inherited descriptors: \(inherited)")
    }
}
