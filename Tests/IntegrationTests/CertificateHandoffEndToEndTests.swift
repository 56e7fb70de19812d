import Foundation
import HappyKit
import Testing

/// `happy auth login --method certificate` with the real binary (PROTOCOL §6): the local server's hand-off endpoints in
/// direct mode and behind a real nginx (forwarded mode), a test browser that presents a client certificate and follows
/// the redirects to the loopback listener, and every way the hand-off can end.
@Suite("happy auth login --method certificate end to end", .serialized)
struct CertificateHandoffEndToEndTests {
    /// Happier matches http(s) returnTo entries by origin *including the port* (seed 000), so an ephemeral loopback
    /// port can only pass a scheme entry; see README ("Browser hand-off") and `TestServerHandoffTests`.
    static let allowLoopback = ["HAPPIER_FEATURE_AUTH_MTLS__RETURN_TO_ALLOW_PREFIXES": "happier://,http://"]

    static func directServer(_ extra: [String: String] = [:]) async throws -> LocalServer {
        try await LocalServer(
            environment: CertificateLoginEndToEndTests.directEnvironment(allowLoopback.merging(extra) { $1 }))
    }

    /// A clean environment: no proxy variables, HAPPY_CA_FILE, LANG or NO_COLOR from the runner.
    static func environment(_ scratch: Scratch, browser: Bool = true) throws -> [String: String] {
        var env = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path, "HAPPY_HOME_DIR": scratch.home,
        ]
        if browser {
            let script = scratch.path + "/browser.sh"
            try "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \(scratch.path)/opened\n"
                .write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            env["BROWSER"] = script
        }
        return env
    }

    struct Login {
        let process: Spawned
        let startURL: String
        /// `http://127.0.0.1:<port>`, where the listener waits.
        let listener: String
        let returnTo: String
    }

    /// Starts `happy auth login --method certificate` and waits until it printed the start URL.
    func startLogin(_ server: String, _ scratch: Scratch, _ extra: [String] = [], browser: Bool = true) async throws
        -> Login
    {
        let process = try Spawned(
            Binaries.happy,
            ["auth", "login", "--method", "certificate", "--server", server, "--ca", GeneratedPKI.path("ca.pem")]
                + extra,
            environment: try Self.environment(scratch, browser: browser), in: scratch.path)
        try await process.waitForOutput { $0.contains("returnTo=") && $0.hasSuffix("\n") }
        let line = try #require(process.stdout.split(separator: "\n").first { $0.contains("/v1/auth/mtls/start") })
        let startURL = String(line)
        let returnTo = try #require(URLComponents(string: startURL)?.queryItems?.first { $0.name == "returnTo" }?.value)
        let parsed = try #require(URLComponents(string: returnTo))
        #expect(parsed.scheme == "http" && parsed.host == "127.0.0.1")
        let port = try #require(parsed.port)
        #expect(parsed.path.count > 20, "the path must be unguessable: \(parsed.path)")
        return Login(process: process, startURL: startURL, listener: "http://127.0.0.1:\(port)", returnTo: returnTo)
    }

    func nothingWritten(_ scratch: Scratch) -> Bool { !FileManager.default.fileExists(atPath: scratch.home) }

    @Test func directModeLogsInKeylessThroughTheBrowser() async throws {
        let server = try await Self.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await startLogin(server.url, scratch)
        #expect(login.startURL.hasPrefix(server.url + "/v1/auth/mtls/start?returnTo=http%3A%2F%2F127.0.0.1%3A"))
        // $BROWSER was given a private page that redirects to the printed URL, never the URL itself (README).
        try await Task.sleep(for: .milliseconds(200))
        let opened = try String(contentsOfFile: scratch.path + "/opened", encoding: .utf8)
        #expect(opened.hasPrefix("file:///") && !opened.contains("returnTo"), "\(opened)")
        let page = String(opened.dropFirst("file://".count).dropLast())
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("location.replace(\"\(login.startURL)\")"))

        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.map(\.status) == [302, 302, 200], "\(hops.map { ($0.url, $0.status, $0.location) })")
        #expect(hops[1].url.hasPrefix(server.url + "/v1/auth/mtls/complete?returnTo="))
        #expect(hops[2].url.hasPrefix(login.returnTo + "?code="))
        #expect(hops[2].body.contains("close this tab"))

        #expect(await login.process.wait(seconds: 30) == 0, "stderr: \(login.process.stderr)")
        #expect(login.process.stdout.contains("Logged in with the browser's certificate (keyless)"))
        #expect(!FileManager.default.fileExists(atPath: page), "the redirect page outlived the login")
        let json = try JSONParser.parse(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8))
        let token = try #require(json["token"]?.stringValue)
        #expect(json["secret"] == nil && json["encryption"] == nil)
        #expect(!login.process.stdout.contains(token) && !login.process.stderr.contains(token))
        // The listener is gone once the one callback arrived.
        await #expect(throws: (any Error).self) {
            _ = try await TestBrowser(identity: nil).request("GET", login.listener + "/")
        }
        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status"], environment: try Self.environment(scratch, browser: false),
            in: scratch.path)
        #expect(status.status == 0 && status.stdout.contains("keyless"), "\(status)")
    }

    /// Requests other than the one callback get 404 and change nothing: the real callback still works afterwards.
    @Test func otherRequestsToTheListenerGet404AndChangeNothing() async throws {
        let server = try await Self.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await startLogin(server.url, scratch, ["--no-browser"])
        let path = try #require(URLComponents(string: login.returnTo)?.path)
        let probe = TestBrowser(identity: nil)
        for (method, url) in [
            ("GET", login.listener + "/"), ("GET", login.listener + "/wrong?code=stolen"),
            ("GET", login.listener + path + "x?code=stolen"), ("GET", login.listener + path),
            ("GET", login.listener + path + "?code="), ("POST", login.listener + path + "?code=stolen"),
            ("GET", login.listener + path.uppercased() + "?code=stolen"),
        ] {
            #expect(try await probe.request(method, url).status == 404, "\(method) \(url)")
        }
        #expect(login.process.process.isRunning)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/opened"))  // --no-browser

        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.last?.status == 200)
        #expect(await login.process.wait(seconds: 30) == 0, "stderr: \(login.process.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }

    /// A client that connects and sends nothing cannot hold the listener: its read times out and the real callback
    /// still gets through. The listener is on loopback only: the machine's other addresses refuse the port.
    @Test func aSilentClientCannotBlockTheListenerAndOnlyLoopbackListens() async throws {
        let server = try await Self.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await startLogin(server.url, scratch, ["--no-browser", "--timeout", "20"])
        let port = try #require(URLComponents(string: login.returnTo)?.port)
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        #expect(Self.connect(silent, "127.0.0.1", port) == 0)
        for address in Self.nonLoopbackIPv4Addresses() {
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(Self.connect(probe, address, port) != 0, "the listener answers on \(address)")
            close(probe)
        }
        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.last?.status == 200)
        #expect(await login.process.wait(seconds: 30) == 0, "stderr: \(login.process.stderr)")
    }

    static func connect(_ fd: Int32, _ host: String, _ port: Int) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    static func nonLoopbackIPv4Addresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var result: [String] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else {
                continue
            }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard
                getnameinfo(
                    address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil,
                    0, NI_NUMERICHOST) == 0
            else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.hasPrefix("127.") { result.append(text) }
        }
        return result
    }

    @Test func restoreRequiredEndsWith77AndWritesNothing() async throws {
        let server = try await Self.directServer(["HAPPY_TEST_SERVER_E2EE_IDENTITIES": "alice@example.com"])
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await startLogin(server.url, scratch)
        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.last?.url.hasSuffix("?error=restore_required") == true, "\(hops.map(\.url))")
        #expect(await login.process.wait(seconds: 30) == 77)
        #expect(login.process.stderr.contains("restore_required") && login.process.stderr.contains("--method mobile"))
        #expect(nothingWritten(scratch))
    }

    /// The code reaches the CLI only after someone else claimed it: the server answers 401, the CLI exits 77.
    @Test func aRefusedClaimEndsWith77AndWritesNothing() async throws {
        let server = try await Self.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await startLogin(server.url, scratch)
        let browser = TestBrowser(identity: "alice")
        let hops = try await browser.visit(login.startURL, stopBefore: login.listener)
        let callback = try #require(hops.last?.location)
        let code = try #require(URLComponents(string: callback)?.queryItems?.first { $0.name == "code" }?.value)
        let stolen = try await browser.request(
            "POST", server.url + "/v1/auth/mtls/claim", body: #"{"code":"\#(code)"}"#)
        #expect(stolen.status == 200)
        #expect(try await browser.request("GET", callback).status == 200)
        #expect(await login.process.wait(seconds: 30) == 77)
        #expect(login.process.stderr.contains("invalid-code"), "stderr: \(login.process.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test func timeoutEndsWith75AndClosesTheListener() async throws {
        let server = try await Self.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let started = Date()
        let login = try await startLogin(server.url, scratch, ["--timeout", "2"])
        #expect(await login.process.wait(seconds: 30) == 75)
        #expect(Date().timeIntervalSince(started) >= 1.9)
        #expect(login.process.stderr.contains("2 s"), "stderr: \(login.process.stderr)")
        #expect(nothingWritten(scratch))
        await #expect(throws: (any Error).self) {
            _ = try await TestBrowser(identity: nil).request("GET", login.returnTo + "?code=late")
        }
    }

    @Test func ctrlCEndsWith130AndWritesNothing() async throws {
        let server = try await Self.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await startLogin(server.url, scratch)
        kill(login.process.process.processIdentifier, SIGINT)
        #expect(await login.process.wait(seconds: 10) == 130)
        #expect(nothingWritten(scratch))
    }

    /// Forwarded mode: nginx asks for a certificate but does not require one (`ssl_verify_client optional`), so the
    /// browser's certificate reaches `/complete` as identity headers while the CLI's claim comes without one.
    @Test func forwardedModeThroughNginx() async throws {
        let server = try await LocalServer(
            environment: CertificateLoginEndToEndTests.forwardedEnvironment.merging(Self.allowLoopback) { $1 })
        defer { server.stopNow() }
        let nginx = try await NginxProxy(upstream: server.url, verifyClient: "optional")
        defer { nginx.stopNow() }

        // Without a certificate the browser gets 401 from /complete and never reaches the listener.
        let scratch = try Scratch()
        let login = try await startLogin(nginx.url, scratch)
        let anonymous = try await TestBrowser(identity: nil).visit(login.startURL)
        #expect(anonymous.map(\.status) == [302, 401])
        #expect(login.process.process.isRunning)

        let hops = try await TestBrowser(identity: "cn-only").visit(login.startURL)
        #expect(hops.map(\.status) == [302, 302, 200])
        #expect(await login.process.wait(seconds: 30) == 0, "stderr: \(login.process.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        let identities = try await TestBrowser(identity: nil).request("GET", server.url + "/_test/mtls-identities")
        #expect(identities.body.contains("dave-laptop"))
    }
}
