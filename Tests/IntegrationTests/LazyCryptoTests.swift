import Foundation
import Testing

/// `happy` does not link libcrypto: its OpenSSL calls are stubs that load libcrypto.so.3 on first use
/// (Sources/CLazyCrypto). Status never loads it, a certificate login does, and when it cannot be loaded the login
/// stops with one line, exit 1 and nothing written.
@Suite("OpenSSL on first use", .serialized)
struct LazyCryptoTests {
    /// `happy` under strace, recording the files it opens: the run and the open calls.
    func openedFiles(_ arguments: [String], env: [String: String], in scratch: Scratch) async throws
        -> (run: (status: Int32, stdout: String, stderr: String), calls: [String])
    {
        try await happyUnderStrace(arguments, calls: "trace=open,openat", environment: env, in: scratch)
    }

    @Test(.enabled(if: Probe.ptracePermitted, "ptrace is not permitted here: library loading cannot be traced"))
    func statusNeverLoadsLibcryptoAndACertificateLoginDoes() async throws {
        try requireTool("/usr/bin/strace", package: "strace")
        let scratch = try Scratch()
        let env = TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home])

        let (before, beforeOpens) = try await openedFiles(["auth", "status"], env: env, in: scratch)
        #expect(before.status == 1 && before.stdout.contains("Not authenticated"))
        #expect(!beforeOpens.contains { $0.contains("libcrypto") }, "status loaded libcrypto")

        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let login = [
            "auth", "login", "--server", server.url, "--ca", GeneratedPKI.path("ca.pem"),
            "--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key"),
        ]
        let (loggedIn, loginOpens) = try await openedFiles(login, env: env, in: scratch)
        #expect(loggedIn.status == 0, "\(loggedIn.stderr)")
        #expect(loginOpens.contains { $0.contains("libcrypto.so.3") }, "the certificate login did not load libcrypto")

        let (after, afterOpens) = try await openedFiles(["auth", "status"], env: env, in: scratch)
        #expect(after.status == 0 && after.stdout.contains("Certificate"), "\(after.stdout)")
        #expect(!afterOpens.contains { $0.contains("libcrypto") }, "status of a certificate login loaded libcrypto")
    }

    /// libcrypto.so.3 hidden (an empty file bind-mounted over it in a private mount namespace): the certificate
    /// login says so in one line, exits 1 and writes nothing; status, which never needs it, still works.
    @Test(.enabled(if: Probe.mountPermitted, "mount namespaces are not permitted here: libcrypto cannot be hidden"))
    func anUnusableLibcryptoIsOneLineExitOneAndNothingWritten() async throws {
        try requireTool("/usr/bin/unshare", package: "util-linux")
        let scratch = try Scratch()
        let cache = try await Spawned.run("/sbin/ldconfig", ["-p"], environment: [:], in: scratch.path)
        let library = try #require(
            cache.stdout.split(separator: "\n").first {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("libcrypto.so.3 ")
            }
            .flatMap { $0.components(separatedBy: " => ").last })
        let empty = scratch.path + "/empty"
        try Data().write(to: URL(fileURLWithPath: empty))

        let env = TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home])
        func hidden(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            let script = #"mount --bind "$1" "$2" && shift 2 && exec "$@""#
            return try await Spawned.run(
                "/usr/bin/unshare",
                ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", empty, library, Binaries.happy]
                    + arguments, environment: env, in: scratch.path)
        }
        let login = try await hidden([
            "auth", "login", "--server", "https://127.0.0.1:9", "--cert", GeneratedPKI.path("alice.pem"), "--key",
            GeneratedPKI.path("alice.key"),
        ])
        #expect(login.status == 1, "\(login.stdout)\(login.stderr)")
        let lines = login.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("libcrypto.so.3 cannot be used"), "\(login.stderr)")
        #expect(login.stderr.contains("install libssl3"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))

        let status = try await hidden(["auth", "status"])
        #expect(status.status == 1 && status.stdout.contains("Not authenticated"), "\(status.stderr)")
    }
}
