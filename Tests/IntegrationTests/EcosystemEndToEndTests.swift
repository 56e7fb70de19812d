import Foundation
import HappyKit
import HappyTestServer
import Testing

/// Issue 4 with the real binaries: one happy approving another, proxies, the debug log, terminal variants.
@Suite("approve, proxies, debug log, terminal variants end to end", .serialized)
struct EcosystemEndToEndTests {
    func env(home: String, server: String, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": home, "HAPPY_SERVER_URL": server].merging(extra) { $1 })
    }

    func startLogin(
        home: String, server: LocalServer, in scratch: Scratch, args: [String] = [],
        extra: [String: String] = [:]
    ) async throws -> (Spawned, String) {
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "60"] + args,
            environment: env(home: home, server: server.url, extra), in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        return (login, String(url))
    }

    /// Logs `home` in through the server's phone, answering v1 or v2.
    func loggedIn(home: String, server: LocalServer, scratch: Scratch, answer: String) async throws {
        let (login, url) = try await startLogin(home: home, server: server, in: scratch)
        #expect(try await server.approve(url, [answer]) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
    }

    func accessKey(_ home: String) throws -> JSONValue {
        try JSONParser.parse(try String(contentsOfFile: home + "/access.key", encoding: .utf8))
    }

    @Test(arguments: ["--v2", "--v1"])
    func oneHappyApprovesAnother(answer: String) async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let laptop = scratch.path + "/laptop", headless = scratch.path + "/headless"
        try await loggedIn(home: laptop, server: server, scratch: scratch, answer: answer)

        let (login, url) = try await startLogin(home: headless, server: server, in: scratch)
        let approve = try await Spawned.run(
            Binaries.happy, ["auth", "approve", url],
            environment: env(home: laptop, server: server.url), in: scratch.path)
        #expect(approve.status == 0, "stderr: \(approve.stderr)")
        #expect(approve.stdout.contains("v2 answer"), "a v2 terminal gets v2 from a data key and from a legacy secret")
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
        let a = try accessKey(laptop), b = try accessKey(headless)
        // The phone's content key (derived on swift-crypto, PROTOCOL §5), whichever way the laptop was approved.
        let contentKey = try PhoneAccount(base64MasterSecret: server.secretBase64).contentPublicKey
        #expect(b["encryption"]?["publicKey"]?.stringValue == Base64.encode(contentKey))
        #expect(b["secret"] == nil, "the master secret never leaves the laptop for a v2 terminal")
        if answer == "--v2" {
            #expect(b["encryption"]?["publicKey"] == a["encryption"]?["publicKey"])
            #expect(b["encryption"]?["machineKey"] != a["encryption"]?["machineKey"], "each machine makes its own key")
        } else {
            #expect(a["secret"]?.stringValue == server.secretBase64)
        }

        // The same URL again: already approved, exit 1 with a clear line.
        let again = try await Spawned.run(
            Binaries.happy, ["auth", "approve", url],
            environment: env(home: laptop, server: server.url), in: scratch.path)
        #expect(again.status == 1 && again.stderr.contains("already approved"), "stderr: \(again.stderr)")
    }

    @Test func approveExplainsWhatItCannotDo() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let unknown = "happy://terminal?" + Base64.encodeURL([UInt8](repeating: 7, count: 32))
        // Not logged in here: 77 before any request.
        let none = try await Spawned.run(
            Binaries.happy, ["auth", "approve", unknown],
            environment: env(home: scratch.path + "/nobody", server: server.url), in: scratch.path)
        #expect(none.status == 77 && none.stderr.contains("not logged in"), "stderr: \(none.stderr)")
        // Logged in, but the request does not exist: exit 1.
        let laptop = scratch.path + "/laptop"
        try await loggedIn(home: laptop, server: server, scratch: scratch, answer: "--v2")
        let missing = try await Spawned.run(
            Binaries.happy, ["auth", "approve", unknown],
            environment: env(home: laptop, server: server.url), in: scratch.path)
        #expect(missing.status == 1 && missing.stderr.contains("no pending login"), "stderr: \(missing.stderr)")
        // A URL that is not a terminal URL: usage, 64.
        let bad = try await Spawned.run(
            Binaries.happy, ["auth", "approve", "happy://terminal?abc"],
            environment: env(home: laptop, server: server.url), in: scratch.path)
        #expect(bad.status == 64, "stderr: \(bad.stderr)")
        // A keyless (certificate) login cannot approve.
        let keyless = scratch.path + "/keyless"
        try FileManager.default.createDirectory(atPath: keyless, withIntermediateDirectories: true)
        try #"{"token": "t0k3n-keyless-abcdef"}"#.write(
            toFile: keyless + "/access.key", atomically: true, encoding: .utf8)
        let k = try await Spawned.run(
            Binaries.happy, ["auth", "approve", unknown],
            environment: env(home: keyless, server: server.url), in: scratch.path)
        #expect(k.status == 77 && k.stderr.contains("keyless"), "stderr: \(k.stderr)")
    }

    @Test func deviceLoginGoesThroughHTTPProxyAndNoProxyBypassesIt() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let proxy = try await Tinyproxy()
        defer { proxy.stopNow() }
        let scratch = try Scratch()
        let port = server.url.split(separator: ":").last.map(String.init) ?? ""
        let (login, url) = try await startLogin(
            home: scratch.home, server: server, in: scratch,
            extra: ["http_proxy": proxy.url])
        #expect(try await server.approve(url) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
        #expect(proxy.log.contains("127.0.0.1:\(port)"), "the proxy saw the requests: \(proxy.log)")

        let before = proxy.log.count
        let other = try Scratch()
        let (direct, url2) = try await startLogin(
            home: other.home, server: server, in: other,
            extra: ["HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"])
        #expect(try await server.approve(url2) == 0)
        #expect(await direct.wait() == 0, "stderr: \(direct.stderr)")
        #expect(!proxy.log.dropFirst(before).contains("127.0.0.1:\(port)"), "NO_PROXY bypassed the proxy")
    }

    /// README: "Unlike curl, upper-case `HTTP_PROXY` is honoured", and lower case wins when both are set. Two real
    /// proxies: a login to an http:// server named only in `HTTP_PROXY` goes through it; with both set, only the
    /// lower-case one sees the traffic.
    @Test func upperCaseHTTPProxyIsHonouredAndLowerCaseWins() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        #expect(server.url.hasPrefix("http://"))
        let upper = try await Tinyproxy()
        defer { upper.stopNow() }
        let lower = try await Tinyproxy()
        defer { lower.stopNow() }
        let port = try #require(server.url.split(separator: ":").last.map(String.init))

        let scratch = try Scratch()
        let (login, url) = try await startLogin(
            home: scratch.home, server: server, in: scratch,
            extra: ["HTTP_PROXY": upper.url])
        #expect(try await server.approve(url) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
        #expect(upper.log.contains("127.0.0.1:\(port)"), "HTTP_PROXY alone carried the login: \(upper.log)")
        #expect(!lower.log.contains("127.0.0.1:\(port)"))

        let upperBefore = upper.log.count
        let both = try Scratch()
        let (second, url2) = try await startLogin(
            home: both.home, server: server, in: both,
            extra: ["HTTP_PROXY": upper.url, "http_proxy": lower.url])
        #expect(try await server.approve(url2) == 0)
        #expect(await second.wait() == 0, "stderr: \(second.stderr)")
        #expect(lower.log.contains("127.0.0.1:\(port)"), "http_proxy won: \(lower.log)")
        #expect(!upper.log.dropFirst(upperBefore).contains("127.0.0.1:\(port)"), "HTTP_PROXY was not used")
    }

    @Test func certificateLoginTunnelsThroughHTTPSProxy() async throws {
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let proxy = try await Tinyproxy()
        defer { proxy.stopNow() }
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key"),
                "--ca", GeneratedPKI.path("ca.pem"),
            ], environment: env(home: scratch.home, server: server.url, ["HTTPS_PROXY": proxy.url]), in: scratch.path)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(proxy.log.contains("CONNECT"), "the TLS connection was tunnelled: \(proxy.log)")
    }

    @Test func debugLogShowsRequestsAndNoSecrets() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(home: scratch.home, server: server, in: scratch, args: ["--debug"])
        #expect(try await server.approve(url, ["--v2"]) == 0)
        #expect(await login.wait() == 0)
        #expect(login.stderr.contains("debug: POST /v1/auth/request -> 200"), "stderr: \(login.stderr)")
        let key = try accessKey(scratch.home)
        let secrets = [key["token"]?.stringValue, key["encryption"]?["machineKey"]?.stringValue, server.secretBase64]
        for secret in secrets.compactMap({ $0 }) {
            #expect(!login.stderr.contains(secret) && !login.stdout.contains(secret))
        }
        #expect(!login.stderr.contains("Bearer"))
        let terminalKey = String(url.dropFirst("happy://terminal?".count))
        #expect(!login.stderr.contains(terminalKey), "request bodies are not logged")
    }

    @Test func terminalVariantsASCIIAndInvertedQR() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        func qrRows(_ extra: [String: String], _ args: [String]) async throws -> [String] {
            let home = scratch.path + "/" + UUID().uuidString
            let (login, _) = try await startLogin(home: home, server: server, in: scratch, args: args, extra: extra)
            login.process.interrupt()
            #expect(await login.wait() == 130)
            return login.stdout.split(separator: "\n").map(String.init).filter {
                !$0.hasPrefix("happy://") && !$0.isEmpty
            }
        }
        let unicode = try await qrRows(["LANG": "en_US.UTF-8"], [])
        #expect(unicode.allSatisfy { $0.allSatisfy { "█▀▄ ".contains($0) } })
        let ascii = try await qrRows(["LANG": "C"], [])
        #expect(!ascii.isEmpty && ascii.allSatisfy { $0.allSatisfy { "# ".contains($0) } })
        #expect(ascii.count == unicode[0].count, "one text row per module in ASCII")
        let inverted = try await qrRows(["LANG": "en_US.UTF-8"], ["--invert-qr"])
        #expect(inverted.count == unicode.count && inverted != unicode)
        // The quiet zone is ink in the normal drawing and blank when inverted.
        #expect(unicode[0].allSatisfy { $0 == "█" } && inverted[0].allSatisfy { $0 == " " })
    }

    /// Colour only on a terminal and never under NO_COLOR: run status under `script`, which gives it a real pty.
    @Test func colourOnATerminalUnlessNoColor() async throws {
        try requireTool("/usr/bin/script", package: "util-linux")
        let scratch = try Scratch()
        func status(_ extra: [String: String]) async throws -> String {
            let r = try await Spawned.run(
                "/usr/bin/script", ["-qec", "\(Binaries.happy) auth status", "/dev/null"],
                environment: env(
                    home: scratch.home, server: "http://127.0.0.1:9",
                    extra.merging(["TERM": "xterm"]) { a, _ in a }),
                in: scratch.path)
            #expect(r.status == 1, "not logged in")
            return r.stdout
        }
        #expect(try await status([:]).contains("\u{1B}["), "a terminal gets colour")
        let plain = try await status(["NO_COLOR": "1"])
        #expect(!plain.contains("\u{1B}") && plain.contains("Not authenticated"))
        let piped = try await Spawned.run(
            Binaries.happy, ["auth", "status"],
            environment: env(home: scratch.home, server: "http://127.0.0.1:9"), in: scratch.path)
        #expect(!piped.stdout.contains("\u{1B}") && !piped.stderr.contains("\u{1B}"))
    }

    /// `X-Happy-Client: cli/<version>` comes from the same source as `happy --version`.
    @Test func clientHeaderCarriesTheVersion() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, _) = try await startLogin(home: scratch.home, server: server, in: scratch)
        let version = try await Spawned.run(
            Binaries.happy, ["--version"], environment: env(home: scratch.home, server: server.url),
            in: scratch.path)
        let listing = try await withTransport {
            try await $0.send(HTTPRequest(method: "GET", url: server.url + "/_test/requests"))
        }
        login.process.interrupt()
        _ = await login.wait()
        let expected = "cli/" + version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(String(decoding: listing.body, as: UTF8.self).contains("\"\(expected)\""))
    }
}
