import Foundation
import Testing

@testable import HappyKit

/// `happy auth approve` (ours): answers another terminal's request with this machine's keys, exactly as the app does.
@Suite struct ApproveFlowTests {
    let sandbox = Sandbox()
    let transport = StubTransport()
    let terminal: BoxKeyPair
    var url: String { "happy://terminal?" + Base64.encodeURL(terminal.publicKey) }

    init() throws { terminal = try BoxKeyPair.generate() }

    private func approve(
        _ url: String, console: Console, network: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let context = HappyContext.test(
            home: sandbox.home, console: console, transport: network ? transport : nil,
            sourceLocation: sourceLocation)
        try await ApproveFlow(server: .test("https://happy.test"), caFile: nil, context: context).run(url: url)
    }

    private func pending(supportsV2: Bool) {
        transport.on("GET", "/v1/auth/request/status") { [terminal] request in
            let query = try #require(
                URLComponents(string: request.url)?.queryItems?.first { $0.name == "publicKey" }?.value)
            #expect(Base64.decode(query) == terminal.publicKey)
            return .json(200, #"{"status":"pending","supportsV2":\#(supportsV2)}"#)
        }
    }

    /// Records the bundle the approval posts, after checking the request around it.
    private func acceptResponse(token: String, into bundle: Locked<[UInt8]>) {
        transport.on("POST", "/v1/auth/response") { [terminal] request in
            #expect(request.headers["Authorization"] == "Bearer \(token)")
            let body = try JSONParser.parse(request.body ?? [])
            #expect(body["publicKey"]?.stringValue == Base64.encode(terminal.publicKey))
            bundle.withLock { $0 = Base64.decode(body["response"]?.stringValue ?? "") ?? [] }
            return .json(200, #"{"success":true}"#)
        }
    }

    @Test func readsTheTerminalKeyFromTheExactURL() throws {
        #expect(try ApproveFlow.terminalKey(from: url) == terminal.publicKey)
    }

    /// Only `happy://terminal?<43 base64url characters>` (PROTOCOL §1.3): every near miss is a usage error.
    @Test func rejectsEveryOtherForm() {
        let key = terminal.publicKey
        let encoded = Base64.encodeURL(key)
        var lastBitsSet = Array(encoded.utf8)
        lastBitsSet[42] = UInt8(ascii: "B") == lastBitsSet[42] ? UInt8(ascii: "C") : UInt8(ascii: "B")  // not canonical
        for text in [
            "  \(url)", "\(url)\n", "HAPPY://terminal?" + encoded, "happy://Terminal?" + encoded,
            "https://app.happy.engineering/terminal/connect#key=" + encoded, encoded, Base64.encode(key),
            url + "=", url + "&x=1", url + "#f", String(url.dropLast()), "happy://terminal?" + Base64.encode(key),
            "happy://terminal?" + String(decoding: lastBitsSet, as: UTF8.self),
            "happy://elsewhere?abc", "happy://terminal", "happy://terminal?c2hvcnQ", "", "not a key",
        ] {
            let error = #expect(throws: HappyError.self, "\(text)") { try ApproveFlow.terminalKey(from: text) }
            #expect(error?.exitStatus == .usage)
        }
    }

    @Test func answersV2FromADataKey() async throws {
        try sandbox.write(AccessKeyTests.dataKeyFixture, to: sandbox.home.accessKeyPath)
        pending(supportsV2: true)
        let bundle = Locked([UInt8]())
        acceptResponse(token: "tok.datakey-456", into: bundle)
        let (console, screen) = Console.recording()
        try await approve(url, console: console)
        guard case .dataKey(let publicKey) = try AuthBundle.open(bundle.current, with: terminal) else {
            Issue.record("expected a v2 answer")
            return
        }
        #expect(publicKey == counting(from: 0xC0, count: 32))
        #expect(screen.out.last?.contains("Approved the terminal (v2 answer)") == true)
        #expect(transport.shutdowns == 1)
        transport.verifyConsumed()
    }

    @Test func answersV1FromALegacySecretOnlyToATerminalWithoutV2() async throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        pending(supportsV2: false)
        let bundle = Locked([UInt8]())
        acceptResponse(token: "tok.legacy-123", into: bundle)
        let (console, screen) = Console.recording()
        try await approve(url, console: console)
        guard case .legacy(let secret) = try AuthBundle.open(bundle.current, with: terminal) else {
            Issue.record("expected a v1 answer")
            return
        }
        #expect(bytes(of: secret) == counting(from: 0xA0, count: 32))
        #expect(screen.out.last?.contains("(v1 answer)") == true)
        transport.verifyConsumed()
    }

    /// PROTOCOL §5: a legacy machine answers a v2 terminal as the app does, with the content key derived from the
    /// master secret; the secret itself never leaves.
    @Test func answersV2WithTheDerivedContentKeyFromALegacySecret() async throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        pending(supportsV2: true)
        let bundle = Locked([UInt8]())
        acceptResponse(token: "tok.legacy-123", into: bundle)
        let (console, screen) = Console.recording()
        try await approve(url, console: console)
        guard case .dataKey(let publicKey) = try AuthBundle.open(bundle.current, with: terminal) else {
            Issue.record("expected a v2 answer")
            return
        }
        let master = try secret(counting(from: 0xA0, count: 32))
        #expect(publicKey == (try KeyTree.contentPublicKey(masterSecret: master)))
        #expect(
            publicKey != (try BoxKeyPair.derived(fromSeed: master)).publicKey,
            "the seed is derived through the key tree, not the master secret itself")
        #expect(screen.out.last?.contains("(v2 answer)") == true)
        transport.verifyConsumed()
    }

    @Test func refusesAV1OnlyTerminalFromADataKey() async throws {
        try sandbox.write(AccessKeyTests.dataKeyFixture, to: sandbox.home.accessKeyPath)
        pending(supportsV2: false)
        let error = await #expect(throws: HappyError.self) {
            try await approve(url, console: Console.recording().console)
        }
        #expect(error?.exitStatus == .refused)
        transport.verifyConsumed()
    }

    @Test func refusesWithoutCredentialsOrWithKeylessOnesBeforeAnyNetwork() async throws {
        let (console, _) = Console.recording()
        let notLoggedIn = await #expect(throws: HappyError.self) {
            try await approve(url, console: console, network: false)
        }
        #expect(notLoggedIn?.exitStatus == .refused)
        try sandbox.write(AccessKeyTests.keylessFixture, to: sandbox.home.accessKeyPath)
        let keyless = await #expect(throws: HappyError.self) {
            try await approve(url, console: console, network: false)
        }
        #expect(keyless?.exitStatus == .refused)
    }

    @Test(arguments: [("not_found", HappyKit.ExitStatus.failure), ("authorized", .failure), ("bogus", .badResponse)])
    func reportsARequestThatIsNotPending(status: String, exit: HappyKit.ExitStatus) async throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        transport.on("GET", "/v1/auth/request/status", reply: .json(200, #"{"status":"\#(status)"}"#))
        let error = await #expect(throws: HappyError.self) {
            try await approve(url, console: Console.recording().console)
        }
        #expect(error?.exitStatus == exit)
        transport.verifyConsumed()
    }

    @Test(arguments: [(404, HappyKit.ExitStatus.failure), (401, .refused), (403, .refused), (500, .badResponse)])
    func reportsARejectedResponse(code: Int, exit: HappyKit.ExitStatus) async throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        pending(supportsV2: true)
        transport.on("POST", "/v1/auth/response", reply: .json(code, #"{"error":"nope"}"#))
        let error = await #expect(throws: HappyError.self) {
            try await approve(url, console: Console.recording().console)
        }
        #expect(error?.exitStatus == exit)
        #expect(error?.userMessage.contains("tok.legacy-123") == false)
        transport.verifyConsumed()
    }
}
