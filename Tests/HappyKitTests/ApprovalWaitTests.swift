import Foundation
import Testing

@testable import HappyKit

/// What the device login says and does while it waits (PROTOCOL §7): the polled server is named on the plain line and
/// the spinner alike, one hint follows after 60 s without approval, and a request the server let expire (410) ends
/// the login at once with exit 75 and nothing written.
@Suite struct ApprovalWaitTests {
    let sandbox = Sandbox()
    let transport = StubTransport()
    let timing = TestTiming()

    private func login(console: Console, server: String = "https://happy.example.test:8443/api") async throws {
        let context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport, timing: timing, random: 0.5)
        let options = LoginOptions(server: .test(server)) { $0.method = .mobile }
        try await LoginFlow(options: options, context: context).run()
    }

    @Test func thePlainLineNamesTheServerByHostAndPort() async throws {
        transport.on("POST", "/api/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(terminal: false)
        try await login(console: console)
        #expect(screen.err.contains("Waiting for approval from happy.example.test:8443 (timeout 300 s)..."))
        #expect(!screen.err.contains { $0.contains("Still no approval") })  // approved within the minute
        transport.verifyConsumed()
    }

    @Test func theSpinnerNamesTheServer() async throws {
        transport.on("POST", "/api/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(terminal: true)
        try await login(console: console)
        #expect(screen.errRaw.contains { $0.contains("Waiting for approval from happy.example.test:8443... ") })
        transport.verifyConsumed()
    }

    @Test(arguments: [false, true])
    func oneHintAfterSixtySecondsWithoutApproval(terminal: Bool) async throws {
        transport.on("POST", "/api/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", times: 75, reply: Phone.pending)  // 75 s, polled once a second
        transport.on("POST", "/api/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(terminal: terminal)
        try await login(console: console)
        let hints = screen.err.filter { $0.hasPrefix("Still no approval after 60 s.") }
        #expect(
            hints == [
                "Still no approval after 60 s. Make sure the Happy app or web app uses the same server "
                    + "(happy.example.test:8443), as self-hosting needs; or approve from another logged-in terminal "
                    + "with `happy auth approve <url>`."
            ])
        transport.verifyConsumed()
    }

    /// Approved at 59 s of polling: no hint yet.
    @Test func aHintIsNotShownBeforeTheMinute() async throws {
        transport.on("POST", "/api/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", times: 58, reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(terminal: false)
        try await login(console: console)
        #expect(!screen.transcript.contains("Still no approval"))
    }

    @Test func anExpiredRequestEndsTheLoginWith75AndWritesNothing() async throws {
        transport.on("POST", "/api/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", times: 2, reply: Phone.pending)
        transport.on("POST", "/api/v1/auth/request", reply: .json(410, #"{"error":"expired"}"#))
        let (console, _) = Console.recording(terminal: false)
        let error = await #expect(throws: HappyError.self) { try await login(console: console) }
        #expect(error == .requestExpired)
        #expect(error?.exitStatus == .timedOut)
        #expect(
            error?.userMessage
                == "happy: the server let this login request expire before it was approved; nothing was written. "
                + "Run `happy auth login` again.")
        #expect(timing.sleeps == [.seconds(1), .seconds(1)])  // no retry after the 410
        #expect(!sandbox.exists(sandbox.home.path))
        transport.verifyConsumed()
    }
}
