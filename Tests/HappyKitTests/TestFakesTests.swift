import Foundation
import Testing

@testable import HappyKit

/// The fakes themselves are strict: an unexpected request, an unused stub, or a context field a test did not set
/// fails the test (here expected, via `withKnownIssue`).
@Suite struct TestFakesTests {
    let sandbox = Sandbox()

    @Test func stubTransportFailsOnAnUnmatchedRequest() async {
        let transport = StubTransport()
        transport.on("GET", "/a", reply: .json(200, "{}"))
        await withKnownIssue {
            _ = try await transport.send(HTTPRequest(method: "POST", url: "https://h/a"))
        }
        _ = try? await transport.send(HTTPRequest(method: "GET", url: "https://h/a?x=1"))
        #expect(transport.requests.map(\.method) == ["POST", "GET"])
        transport.verifyConsumed()
    }

    @Test func stubTransportReportsUnusedAnswers() {
        let transport = StubTransport()
        transport.on("GET", "/a", times: 2, reply: .json(200, "{}"))
        withKnownIssue { transport.verifyConsumed() }
    }

    @Test func stubTransportAnswersInOrderAndCanFail() async throws {
        let transport = StubTransport()
        transport.on("GET", "/a", reply: .json(201, "1"))
        transport.on("GET", "/a", fail: HappyError.serverUnreachable(server: "h", reason: "down"))
        transport.on("GET", "/a?q=1", reply: .json(202, "2"))
        #expect(try await transport.send(HTTPRequest(method: "GET", url: "https://h/a")).status == 201)
        await #expect(throws: HappyError.serverUnreachable(server: "h", reason: "down")) {
            try await transport.send(HTTPRequest(method: "GET", url: "https://h/a"))
        }
        #expect(try await transport.send(HTTPRequest(method: "GET", url: "https://h/a?q=1")).status == 202)
        transport.verifyConsumed()
    }

    @Test func unsetContextFieldsFailTheTest() async {
        let context = HappyContext.test(home: sandbox.home)
        withKnownIssue { _ = try context.makeTransport(TransportOptions()) }
        withKnownIssue { context.console.out("x") }
        withKnownIssue { _ = context.timing.now() }
        await withKnownIssue { try await context.timing.sleep(.seconds(1)) }
        withKnownIssue { _ = context.browser.open("https://example.test") }
        withKnownIssue { _ = context.processes.isAlive(1) }
        withKnownIssue { _ = context.random() }
    }

    @Test func testTimingSleepsInstantlyAndAdvances() async throws {
        let timing = TestTiming()
        try await timing.timing.sleep(.seconds(120))
        #expect(timing.elapsed == .seconds(120))
        #expect(timing.timing.now() == TestTiming.defaultNow)
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await timing.timing.sleep(.seconds(1))
        }
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(timing.sleeps == [.seconds(120)])
    }

    @Test func recordingConsoleSeparatesStreamsAndHandsOutInput() async throws {
        let (console, screen) = Console.recording(stdin: ["a", "pw"], terminal: true)
        console.out("1")
        console.err("2")
        console.errRaw("3")
        #expect(await console.readLine() == "a")
        let secret = try console.readSecret("Password: ")
        #expect(bytes(of: secret) == Array("pw".utf8))
        #expect(await console.readLine() == nil)
        #expect(screen.out == ["1"] && screen.err == ["2"] && screen.errRaw == ["3", "Password: "])
        #expect(screen.transcript == "1\n2\n3Password: ")
        #expect(console.canPrompt && console.colorEnabled)
    }
}
