import Foundation
import Testing

@testable import HappyKit

/// `DeviceLoginFlow` when things go wrong: transient failures are retried with backoff, a silent server times out,
/// and every unusable answer is a `.badResponse` that writes nothing — the home is not even created.
@Suite struct DeviceLoginFailureTests {
    let sandbox = Sandbox()
    let server = "https://happy.test"
    let transport = StubTransport()
    let timing = TestTiming()

    @Test func survivesA503BurstAndAConnectionFailureWhilePolling() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", times: 3, reply: .json(503, #"{"error":"busy"}"#))
        transport.on(
            "POST", "/v1/auth/request",
            fail: HappyError.serverUnreachable(server: server, reason: "connection refused"))
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        try await login(console: console, random: 0.5)

        // Backoff steps 1, 2, 4, 8 s at three quarters (random 0.5); then back to polling once a second.
        #expect(timing.sleeps == [.milliseconds(750), .milliseconds(1500), .seconds(3), .seconds(6), .seconds(1)])
        #expect(screen.err.contains("Server answered HTTP 503; retrying in 0.8 s."))
        #expect(screen.err.contains("Poll failed (connection refused); retrying in 6.0 s."))
        #expect(screen.err.contains("Server reachable again; still waiting for approval."))
        #expect(sandbox.exists(sandbox.home.accessKeyPath))
        transport.verifyConsumed()
    }

    @Test func honoursRetryAfterOn429WhilePolling() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", reply: .json(429, "{}", headers: ["Retry-After": "7"]))
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, _) = Console.recording()
        try await login(console: console, random: 0.0)
        #expect(timing.sleeps == [.seconds(7)])
        transport.verifyConsumed()
    }

    @Test func retriesTheFirstRequestAfter429AndAnOutage() async throws {
        transport.on("POST", "/v1/auth/request", reply: .json(429, "{}", headers: ["retry-after": "3"]))
        transport.on("POST", "/v1/auth/request", fail: HappyError.serverUnreachable(server: server, reason: "reset"))
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, _) = Console.recording()
        try await login(console: console, random: 0.0)
        #expect(timing.sleeps == [.seconds(3), .seconds(1)])  // Retry-After, then half of the 2 s step
        transport.verifyConsumed()
    }

    @Test func reportsAServerThatStaysDownAtTheFirstRequest() async throws {
        transport.on("POST", "/v1/auth/request", times: 3, reply: .json(502, ""))
        let (console, _) = Console.recording()
        let error = await #expect(throws: HappyError.self) { try await login(console: console, random: 0.5) }
        #expect(error?.exitStatus == .unavailable)
        #expect(timing.sleeps.count == 2)
        #expect(!sandbox.exists(sandbox.home.path))
        transport.verifyConsumed()
    }

    @Test func timesOutWithNothingWritten() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", times: 120, reply: Phone.pending)  // once a second for 120 s
        let (console, screen) = Console.recording()
        await #expect(throws: HappyError.approvalTimedOut(seconds: 120)) { try await login(console: console) }
        #expect(timing.elapsed == .seconds(120))
        #expect(timing.sleeps.allSatisfy { $0 == .seconds(1) })
        #expect(!sandbox.exists(sandbox.home.path))
        #expect(!screen.transcript.contains("Logged in"))
        #expect(transport.shutdowns == 1)  // connections are closed on failure too
        transport.verifyConsumed()
    }

    @Test func timeoutCountsTimeSpentInRequestsToo() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", times: 2) { [timing] _ in
            timing.advance(by: .seconds(60))  // a slow server: each poll takes 60 s
            return Phone.pending
        }
        let (console, _) = Console.recording()
        await #expect(throws: HappyError.approvalTimedOut(seconds: 120)) { try await login(console: console) }
        #expect(timing.sleeps == [.seconds(1)])  // the poll that ends past the deadline is the last thing done
        transport.verifyConsumed()
    }

    @Test func stopsWhenCancelled() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request") { _ in
            withUnsafeCurrentTask { $0?.cancel() }  // Ctrl-C arrives during the poll
            return Phone.pending
        }
        let (console, _) = Console.recording()
        let work = Task { try await login(console: console) }  // cancelled from inside, as Ctrl-C would
        await #expect(throws: CancellationError.self) { try await work.value }
        #expect(!sandbox.exists(sandbox.home.path))
        transport.verifyConsumed()
    }

    // MARK: unusable answers: exit 76, nothing written

    static let token = "tok-SECRET-9a8b7c6d5e4f"

    enum BadAnswer: String, CaseIterable, Sendable {
        case missingToken, emptyToken, missingResponse, responseNotBase64, sealedForAnotherKey, versionByte1
        case plaintext31, plaintext34, plaintext64, tooShortBundle, unknownState, notJSON, rejectedKey

        var responder: StubTransport.Responder {
            let token = DeviceLoginFailureTests.token
            switch self {
            case .missingToken: return Phone.approve(plaintext: Phone.legacyAnswer, token: nil)
            case .emptyToken: return Phone.approve(plaintext: Phone.legacyAnswer, token: "")
            case .missingResponse:
                return { _ in .json(200, #"{"state":"authorized","token":"\#(token)"}"#) }
            case .responseNotBase64:
                return Phone.approve(plaintext: Phone.legacyAnswer, token: token, response: "%%%not base64%%%")
            case .sealedForAnotherKey:
                return Phone.approve(plaintext: Phone.legacyAnswer, token: token, sealFor: counting(from: 9, count: 32))
            case .versionByte1: return Phone.approve(plaintext: [0x01] + Phone.contentPublicKey, token: token)
            case .plaintext31: return Phone.approve(plaintext: counting(from: 0, count: 31), token: token)
            case .plaintext34: return Phone.approve(plaintext: counting(from: 0, count: 34), token: token)
            case .plaintext64: return Phone.approve(plaintext: counting(from: 0, count: 64), token: token)
            case .tooShortBundle:
                return Phone.approve(
                    plaintext: Phone.legacyAnswer, token: token, response: Base64.encode(counting(from: 0, count: 70)))
            case .unknownState: return { _ in .json(200, #"{"state":"exploded","token":"\#(token)"}"#) }
            case .notJSON: return { _ in .json(200, "<html>\(token)</html>") }
            case .rejectedKey: return { _ in .json(401, #"{"error":"Invalid public key"}"#) }
            }
        }
    }

    @Test(arguments: BadAnswer.allCases)
    func rejectsAnUnusableAnswerAndWritesNothing(_ answer: BadAnswer) async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", respond: answer.responder)
        let (console, screen) = Console.recording()
        let error = await #expect(throws: HappyError.self) { try await login(console: console) }
        guard case .badResponse? = error else {
            Issue.record("expected .badResponse, got \(String(describing: error))")
            return
        }
        #expect(error?.exitStatus == .badResponse)
        #expect(!sandbox.exists(sandbox.home.path))
        #expect(error?.userMessage.contains(Self.token) == false)
        #expect(error?.userMessage.contains("SECRET") == false)
        #expect(!screen.transcript.contains("SECRET"))
        transport.verifyConsumed()
    }

    @Test func rejectsAnUnusableAnswerToTheFirstRequestToo() async throws {
        transport.on("POST", "/v1/auth/request", respond: BadAnswer.versionByte1.responder)
        let (console, screen) = Console.recording()
        let error = await #expect(throws: HappyError.self) { try await login(console: console) }
        #expect(error?.exitStatus == .badResponse)
        #expect(!sandbox.exists(sandbox.home.path))
        #expect(!screen.transcript.contains("SECRET"))
    }

    // MARK: helpers

    private func login(console: Console, random: Double? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport, timing: timing, random: random,
            sourceLocation: sourceLocation)
        let options = LoginOptions(server: .test(server)) {
            $0.method = .mobile; $0.timeout = .seconds(120)
        }
        try await LoginFlow(options: options, context: context).run()
    }
}
