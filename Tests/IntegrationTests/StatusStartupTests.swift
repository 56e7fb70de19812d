import Foundation
import HappyKit
import Testing

/// `happy auth status` runs in shell prompts, so `Entry` answers it without ArgumentParser or the concurrency
/// runtime (issue 10): no thread, no socket, no event loop — shown on the built binary under strace. The same
/// status spelled so that the parser takes it (`--help`) does start threads, so the probe can see them.
@Suite("status: the synchronous path", .serialized)
struct StatusStartupTests {
    static let watched = "trace=clone,clone3,fork,vfork,socket,epoll_create,epoll_create1,eventfd2,io_uring_setup"

    /// `happy` under strace, watching for threads, processes, sockets and event loops: the run and the calls.
    func traced(_ arguments: [String], home: String, in scratch: Scratch) async throws
        -> (run: (status: Int32, stdout: String, stderr: String), calls: [String])
    {
        try await happyUnderStrace(
            arguments, calls: Self.watched, environment: TestEnvironment.clean(["HAPPY_HOME_DIR": home]), in: scratch)
    }

    @Test(.enabled(if: Probe.ptracePermitted, "ptrace is not permitted here: status cannot be traced"))
    func statusStartsNoThreadNoSocketAndNoEventLoop() async throws {
        try requireTool("/usr/bin/strace", package: "strace")
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()

        let (text, textCalls) = try await traced(["auth", "status"], home: home, in: scratch)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Authenticated (legacy)") && text.stdout.contains("Machine ID: m-1"))
        #expect(textCalls.isEmpty, "status made these calls: \(textCalls)")

        let (json, jsonCalls) = try await traced(["auth", "status", "--json"], home: home, in: scratch)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.hasPrefix(#"{"loggedIn":true,"credentialType":"legacy""#), "\(json.stdout)")
        #expect(jsonCalls.isEmpty, "status --json made these calls: \(jsonCalls)")

        let empty = scratch.path + "/empty-home"
        let (out, outCalls) = try await traced(["auth", "status"], home: empty, in: scratch)
        #expect(out.status == 1 && out.stdout.contains("Not authenticated"), "\(out.stdout)\(out.stderr)")
        #expect(outCalls.isEmpty, "status (logged out) made these calls: \(outCalls)")

        let (version, versionCalls) = try await traced(["--version"], home: home, in: scratch)
        #expect(version.status == 0 && version.stdout == HappyVersion.current + "\n", "\(version.stdout)")
        #expect(versionCalls.isEmpty, "--version made these calls: \(versionCalls)")

        // The control: through the parser, the same binary starts threads, and the trace shows them.
        let (help, helpCalls) = try await traced(["auth", "status", "--help"], home: home, in: scratch)
        #expect(help.status == 0 && help.stdout.contains("--json"))
        #expect(helpCalls.contains { $0.contains("clone") }, "the probe saw no thread on the parser's path")
    }
}
