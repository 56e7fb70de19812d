import Foundation
import Testing

@testable import HappyKit

/// The browser hand-off (`BrowserHandoff` in `LoginFlow`) with a real loopback listener, a stub server and a "browser" that answers the listener
/// over a real socket. The whole flow against the real binary and server is in the integration tests.
@Suite struct CertificateHandoffFlowTests {
    let sandbox = Sandbox()
    let server = "https://happy.test"
    let transport = StubTransport()

    @Test(arguments: [
        ("GET /p?code=abc HTTP/1.1\r\n\r\n", HandoffCallback.code("abc")),
        ("GET /p?state=1&code=a%2Bb HTTP/1.1\r\n\r\n", .code("a+b")),
        ("GET /p?error=restore_required HTTP/1.1\r\n\r\n", .error("restore_required")),
    ])
    func acceptsTheCallbackOnItsPath(head: String, expected: HandoffCallback) {
        #expect(HandoffRequest(head: Array(head.utf8)).callback(forPath: "/p") == expected)
    }

    @Test(arguments: [
        "GET /q?code=abc HTTP/1.1", "GET /p/?code=abc HTTP/1.1", "GET /px?code=abc HTTP/1.1",
        "POST /p?code=abc HTTP/1.1",
        "GET /p HTTP/1.1", "GET /p?code= HTTP/1.1", "GET /P?code=abc HTTP/1.1", "GET http://evil/p?code=abc HTTP/1.1",
        "", "GET", "GET /p?code=\(String(repeating: "a", count: 600)) HTTP/1.1",
    ])
    func refusesEverythingElse(line: String) {
        #expect(HandoffRequest(head: Array((line + "\r\n\r\n").utf8)).callback(forPath: "/p") == nil)
    }

    @Test func startURLEncodesTheReturnAddress() {
        #expect(
            BrowserHandoff.startURL(server: .test("https://h.test"), returnTo: "http://127.0.0.1:5/a_b-c")
                == "https://h.test/v1/auth/mtls/start?returnTo=http%3A%2F%2F127.0.0.1%3A5%2Fa_b-c")
    }

    /// The picker offers the third choice only when /v1/features advertises mTLS; choosing it runs the hand-off.
    @Test func pickerOffersTheHandoffWhenTheServerAdvertisesMTLS() async throws {
        transport.on(
            "GET", "/v1/features", reply: .json(200, #"{"features":{"mtls":{"enabled":true,"mode":"direct"}}}"#))
        transport.on("POST", "/v1/auth/mtls/claim") { request in
            #expect(request.body.map { String(decoding: $0, as: UTF8.self) } == #"{"code":"the-code"}"#)
            return .json(200, #"{"success":true,"token":"tok.handoff"}"#)
        }
        transport.on("GET", "/v1/account/profile") { request in
            #expect(request.headers["Authorization"] == "Bearer tok.handoff")
            return .json(200, #"{"id":"7","firstName":"Ada","lastName":"L\u001b]0;x","github":{"login":"ada"}}"#)
        }
        let (console, screen) = Console.recording(stdin: ["3"], terminal: true)
        let browser = AnsweringBrowser(query: "code=the-code")
        let context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport, timing: nil,
            browser: browser)
        var live = context
        live.timing = .live()
        try await LoginFlow(options: LoginOptions(server: .test(server)) { $0.timeout = .seconds(30) }, context: live)
            .run()
        #expect(screen.err.contains("  3) Device certificate in the browser (enterprise)"))
        #expect(browser.answers.current.first == 200)
        #expect(screen.out.contains("The server logged this machine in as Ada L\\u{1B}]0;x (@ada)."), "\(screen.out)")
        #expect(sandbox.read(sandbox.home.accessKeyPath) == "{\n  \"token\": \"tok.handoff\"\n}")
        #expect(
            screen.out.first?.hasPrefix("https://happy.test/v1/auth/mtls/start?returnTo=http%3A%2F%2F127.0.0.1%3A")
                == true)
        // The claim went out without a client certificate.
        #expect(transport.madeWith.allSatisfy { $0.clientIdentity == nil })
        transport.verifyConsumed()
    }

    /// A server that cannot say who the account is (no profile endpoint) gets a short note; the login stands.
    @Test func aFailedAccountLookupIsANoteNotAFailure() async throws {
        transport.on("POST", "/v1/auth/mtls/claim", reply: .json(200, #"{"success":true,"token":"tok.handoff"}"#))
        transport.on("GET", "/v1/account/profile", reply: .json(404, #"{"error":"Not found"}"#))
        let (console, screen) = Console.recording()
        var context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport, browser: AnsweringBrowser(query: "code=c"))
        context.timing = .live()
        let options = LoginOptions(server: .test(server)) {
            $0.method = .certificate
            $0.timeout = .seconds(30)
        }
        try await LoginFlow(options: options, context: context).run()
        #expect(screen.err.contains { $0.hasPrefix("Could not ask the server which account this is") })
        #expect(sandbox.read(sandbox.home.accessKeyPath) == "{\n  \"token\": \"tok.handoff\"\n}")
        transport.verifyConsumed()
    }

    @Test func aRefusedClaimWritesNothing() async throws {
        transport.on("POST", "/v1/auth/mtls/claim", reply: .json(401, #"{"error":"invalid-code"}"#))
        let error = await #expect(throws: HappyError.self) { try await runHandoff(query: "code=x") }
        #expect(error?.exitStatus == .refused)
        #expect(!sandbox.exists(sandbox.home.path))
    }

    @Test func restoreRequiredIsRefusedWithoutAClaim() async throws {
        let error = await #expect(throws: HappyError.self) { try await runHandoff(query: "error=restore_required") }
        #expect(error?.exitStatus == .refused)
        #expect(error?.userMessage.contains("restore_required") == true)
        #expect(!sandbox.exists(sandbox.home.path))
        #expect(transport.requests.isEmpty)
    }

    @Test func timesOutWith75() async throws {
        let (console, _) = Console.recording()
        let browser = RecordingBrowser()
        let context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport,
            timing: TestTiming(), browser: browser)
        let flow = LoginFlow(
            options: LoginOptions(server: .test(server)) {
                $0.method = .certificate; $0.timeout = .seconds(7)
            },
            context: context)
        let error = await #expect(throws: HappyError.self) { try await flow.run() }
        #expect(error == .approvalTimedOut(seconds: 7))
        #expect(browser.urls.count == 1)
        #expect(!sandbox.exists(sandbox.home.path))
    }

    private func runHandoff(query: String) async throws {
        let (console, _) = Console.recording()
        var context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport,
            browser: AnsweringBrowser(query: query))
        context.timing = .live()
        try await LoginFlow(
            options: LoginOptions(server: .test(server)) {
                $0.method = .certificate; $0.timeout = .seconds(30)
            },
            context: context
        ).run()
    }
}

/// A browser that, when asked to open the start URL, GETs the returnTo address from it with `query` over a real
/// socket (as the server's last redirect would make a browser do), and records the listener's status codes.
final class AnsweringBrowser: BrowserOpener, Sendable {
    let query: String
    let answers = Locked([Int]())
    init(query: String) { self.query = query }

    func open(_ url: String) -> Bool {
        guard let returnTo = URLComponents(string: url)?.queryItems?.first(where: { $0.name == "returnTo" })?.value,
            let target = URLComponents(string: returnTo), let port = target.port
        else { return false }
        let path = target.path + "?" + query
        Thread.detachNewThread { [answers] in
            answers.withLock { $0.append(Self.get(port: port, path: path)) }
        }
        return true
    }

    /// A minimal HTTP/1.1 GET on 127.0.0.1; the status code, or -1.
    static func get(port: Int, path: String) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return -1 }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { break }
            response += buffer[0..<got]
        }
        let status = String(decoding: response.prefix(12), as: UTF8.self).split(separator: " ").dropFirst().first
        return status.flatMap { Int($0) } ?? -1
    }
}
