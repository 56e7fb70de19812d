import Foundation
import HappyKit
import Testing

/// No crash on any input: every numeric field of every file and every numeric flag or variable is walked through
/// its boundaries against the real binary. Each answer is one line and a documented exit code, never a Swift trap
/// (which would die by signal: exit 132/133/134 or 128+).
@Suite("edges: numbers at their boundaries", .serialized)
struct EdgeNumbersTests {
    static let documented: Set<Int32> = [0, 1, 64, 69, 75, 76, 77]

    /// JSON number lexemes around every boundary a pid or port has.
    static let lexemes = [
        "0", "1", "-1", "2", "65535", "65536", "99999", "2147483647", "2147483648", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551616", "-9223372036854775809",
        "1.5", "1e3", "1E400", "-0", "0.0", "123456789012345678901234567890", "\"7\"", "null", "true", "[]", "{}",
    ]

    func env(_ home: String, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": home].merging(extra) { $1 })
    }

    func expectClean(
        _ r: (status: Int32, stdout: String, stderr: String), _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            Self.documented.contains(r.status), "\(what): exit \(r.status), stderr \(r.stderr)",
            sourceLocation: sourceLocation)
        #expect(
            !r.stderr.contains("Fatal error") && !r.stderr.contains("Trace/breakpoint"), "\(what): \(r.stderr)",
            sourceLocation: sourceLocation)
    }

    @Test(arguments: lexemes)
    func everyPidInDaemonStateIsHandled(pid: String) async throws {
        for port in ["5555", "0", "65536", "4294967296", "-1", "1.5"] {
            let scratch = try Scratch()
            try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
            try #"{"pid": \#(pid), "httpPort": \#(port)}"#
                .write(toFile: scratch.home + "/daemon.state.json", atomically: true, encoding: .utf8)
            for args in [["auth", "status"], ["auth", "status", "--json"], ["auth", "logout", "--yes"]] {
                let r = try await Spawned.run(Binaries.happy, args, environment: env(scratch.home), in: scratch.path)
                expectClean(r, "pid \(pid) port \(port) \(args)")
                if args.last == "--json" {
                    #expect((try? JSONParser.parse(r.stdout.trimmingCharacters(in: .newlines))) != nil, "\(r.stdout)")
                }
            }
        }
    }

    @Test(arguments: [
        "0", "-1", "604801", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "1.5", "1e3", "", "abc", " 5",
    ])
    func everyBadTimeoutIsAUsageError(value: String) async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--timeout", value, "--server", "http://127.0.0.1:9"],
            environment: env(scratch.home), in: scratch.path)
        #expect(r.status == 64, "--timeout \(value): \(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test(arguments: ["0", "65536", "99999", "4294967296", "18446744073709551616", "-1", "", "1.5", "0x50"])
    func everyBadPortInAServerURLIsAUsageError(port: String) async throws {
        let scratch = try Scratch()
        let url = "http://127.0.0.1:\(port)"
        let flag = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", url],
            environment: env(scratch.home), in: scratch.path)
        #expect(flag.status == 64, "--server \(url): \(flag.status) \(flag.stderr)")
        let variable = try await Spawned.run(
            Binaries.happy, ["auth", "login"],
            environment: env(scratch.home, ["HAPPY_SERVER_URL": url]), in: scratch.path)
        #expect(variable.status == 64, "HAPPY_SERVER_URL=\(url): \(variable.status) \(variable.stderr)")
        #expect(variable.stderr.split(separator: "\n").count == 1, "one line: \(variable.stderr)")
        let approve = try await Spawned.run(
            Binaries.happy,
            ["auth", "approve", "happy://terminal?" + Base64.encodeURL([UInt8](repeating: 1, count: 32))],
            environment: env(scratch.home, ["HAPPY_SERVER_URL": url]), in: scratch.path)
        #expect(approve.status == 64 || approve.status == 77, "approve: \(approve.status) \(approve.stderr)")
        let web = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--method", "web", "--no-browser", "--server", "http://127.0.0.1:9"],
            environment: env(scratch.home, ["HAPPY_WEBAPP_URL": url]), in: scratch.path)
        #expect(web.status == 64, "HAPPY_WEBAPP_URL=\(url): \(web.status) \(web.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }

    /// A password in a server URL is refused without being echoed.
    @Test func aServerURLWithCredentialsIsRefusedWithoutEchoingThem() async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login"],
            environment: env(scratch.home, ["HAPPY_SERVER_URL": "https://user:hunter2@example.com"]),
            in: scratch.path)
        #expect(r.status == 64)
        #expect(!r.stderr.contains("hunter2") && !r.stdout.contains("hunter2"))
    }

    /// A certificate expiry date far outside any calendar in access.key is shown, never computed into a trap.
    @Test(arguments: ["+999999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "not a date", ""])
    func anyCertificateExpiryInAccessKeyIsHandled(notAfter: String) async throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        let key = JSONValue.object([
            ("token", .string("tok.en")),
            (
                "certificate",
                .object([
                    ("identity", .string("a@b")), ("source", .string("san_email")), ("issuer", .string("CN=x")),
                    ("fingerprint", .string("AB")), ("notAfter", .string(notAfter)),
                ])
            ),
        ])
        try key.formatted().write(toFile: scratch.home + "/access.key", atomically: true, encoding: .utf8)
        for args in [["auth", "status"], ["auth", "status", "--json"]] {
            let r = try await Spawned.run(Binaries.happy, args, environment: env(scratch.home), in: scratch.path)
            #expect(r.status == 0, "\(notAfter) \(args): \(r.status) \(r.stderr)")
        }
    }
}
