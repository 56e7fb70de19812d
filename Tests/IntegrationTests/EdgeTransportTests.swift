import Foundation
import HappyKit
import Testing

/// One deadline, hostile servers and the TLS floor, with the real binary against real sockets.
@Suite("edges: servers that misbehave", .serialized)
struct EdgeTransportTests {
    func env(_ scratch: Scratch, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home].merging(extra) { $1 })
    }

    func login(_ scratch: Scratch, _ args: [String], seconds: Double = 60) async throws
        -> (status: Int32, stdout: String, stderr: String, elapsed: Double)
    {
        let started = Date()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--method", "mobile"] + args,
            environment: env(scratch), in: scratch.path, seconds: seconds)
        return (r.status, r.stdout, r.stderr, Date().timeIntervalSince(started))
    }

    /// `--timeout` bounds the whole login, the first request included: a server that sends a head and then a byte
    /// every 2 s (or the head itself byte by byte) cannot hold it.
    @Test(arguments: ["trickle", "trickle-head"])
    func aTricklingServerCannotHoldLoginPastItsTimeout(mode: String) async throws {
        let server = try await HostileServer(mode)
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(scratch, ["--timeout", "3", "--server", server.httpURL])
        #expect(r.status == 75, "\(r.stderr)")
        #expect(r.elapsed < 6, "login took \(r.elapsed) s with --timeout 3")
        #expect(!FileManager.default.fileExists(atPath: scratch.home), "nothing written")
    }

    /// Every request has a deadline for the whole transfer: approve (15 s per request) ends too.
    @Test func aTricklingServerCannotHoldApprove() async throws {
        let server = try await HostileServer("trickle")
        defer { server.stopNow() }
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        try #"{"secret": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "token": "tok.en"}"#
            .write(toFile: scratch.home + "/access.key", atomically: true, encoding: .utf8)
        let url = "happy://terminal?" + Base64.encodeURL([UInt8](repeating: 7, count: 32))
        let started = Date()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "approve", url, "--server", server.httpURL],
            environment: env(scratch), in: scratch.path, seconds: 40)
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("no complete answer within 15 s"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 25)
    }

    /// `Retry-After: 0` never makes polling faster than about once a second.
    @Test func retryAfterZeroDoesNotSpeedUpPolling() async throws {
        let server = try await HostileServer("retry-zero")
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(scratch, ["--timeout", "4", "--server", server.httpURL])
        #expect([69, 75].contains(r.status), "\(r.stderr)")
        #expect(server.requests.count <= 6, "\(server.requests.count) requests in 4 s")
        #expect(server.requests.count >= 2)
    }

    /// Replies are capped at 1 MiB, announced (Content-Length) or not (chunked): larger is a bad response (76).
    @Test(arguments: ["big-length", "big-chunked"])
    func aReplyOverOneMiBIsABadResponse(mode: String) async throws {
        let server = try await HostileServer(mode)
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(scratch, ["--timeout", "20", "--server", server.httpURL])
        #expect(r.status == 76, "\(r.stderr)")
        #expect(r.stderr.contains("KiB"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    /// Numbers past 64 bits in headers are ignored or refused, never a crash.
    @Test func hugeNumbersInHeadersNeverCrash() async throws {
        let server = try await HostileServer("huge-numbers")
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(scratch, ["--timeout", "3", "--server", server.httpURL])
        #expect([69, 75, 76].contains(r.status), "\(r.status) \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    /// A server that accepts the TCP connection and closes it in the handshake is reported as exactly that.
    @Test func aCloseDuringTheTLSHandshakeIsReportedAsSuch() async throws {
        let server = try await HostileServer("close")
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(scratch, ["--timeout", "10", "--server", server.httpsURL])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("closed it during the TLS handshake"), "\(r.stderr)")
        #expect(!r.stderr.lowercased().contains("refused"))
    }

    /// Every connection negotiates TLS 1.2 or newer: a server offering only TLS 1.0 is refused.
    @Test func aTLS10OnlyServerIsRefused() async throws {
        let scratch = try Scratch()
        let pki = GeneratedPKI.directory
        let port = freeLoopbackPort()
        let server = try Spawned(
            "/usr/bin/openssl",
            [
                "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki + "/server.pem", "-key", pki + "/server.key",
                "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-www", "-quiet",
            ], environment: TestEnvironment.clean(), in: scratch.path)
        defer { server.stopNow(SIGKILL) }
        try await waitForListener(port: port)
        let r = try await login(
            scratch, ["--timeout", "10", "--server", "https://127.0.0.1:\(port)", "--ca", pki + "/ca.pem"])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("TLS 1.2"), "\(r.stderr)")
    }

    /// A token is checked when it arrives: a control character in it is a bad response (76), nothing is written,
    /// and the token never reaches the terminal.
    @Test(arguments: ["evil\u{1B}[2Jtoken", "with space", String(repeating: "t", count: 4097), "tøken"])
    func aTokenThatIsNotPrintableASCIIIsRefused(token: String) async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        try await server.control(
            "/_test/faults", json: JSONValue.object([("authorizedToken", .string(token))]).compact())
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "30", "--server", server.url],
            environment: env(scratch), in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        #expect(try await server.approve(String(url)) == 0)
        #expect(await login.wait() == 76, "\(login.stderr)")
        #expect(!login.stderr.contains(token) && !login.stdout.contains(token))
        #expect(!login.stderr.contains("\u{1B}[2J"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }

    /// A stored token with a control character is a damaged access.key: approve stops before any request, and its
    /// message never holds the token.
    @Test func aStoredTokenWithAControlCharacterIsNeverSent() async throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        let token = "Bearer-secret-\u{07}-0123456789"
        try JSONValue.object([
            ("secret", .string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")), ("token", .string(token)),
        ])
        .formatted().write(toFile: scratch.home + "/access.key", atomically: true, encoding: .utf8)
        let url = "happy://terminal?" + Base64.encodeURL([UInt8](repeating: 7, count: 32))
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "approve", url, "--server", "http://127.0.0.1:9"],
            environment: env(scratch), in: scratch.path)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("access.key"))
        #expect(!r.stderr.contains("secret-"), "\(r.stderr)")
        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status"], environment: env(scratch), in: scratch.path)
        #expect(status.status == 1 && !status.stdout.contains("\u{07}") && !status.stderr.contains("\u{07}"))
    }

    /// Text from a server reaches the terminal with its control characters escaped.
    @Test func serverTextIsEscapedOnTheTerminal() async throws {
        let server = try await HostileServer("evil-text")
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(scratch, ["--timeout", "10", "--server", server.httpURL])
        #expect(r.status == 76, "\(r.stderr)")
        #expect(r.stderr.contains("\\u{1B}]0;owned"), "\(r.stderr)")
        #expect(!r.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B })
    }

    /// Replies resolve duplicate keys as JSON.parse does: the last wins.
    @Test func duplicateKeysInARepliesResolveAsJavaScriptDoes() throws {
        let reply = try AuthRequestReply(json: try JSONParser.parse(#"{"state":"authorized","state":"requested"}"#))
        #expect(reply.state == "requested")
    }

    func waitForListener(port: Int) async throws {
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if ok == 0 { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("nothing listens on \(port)")
    }
}
