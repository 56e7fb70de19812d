import Foundation
import Testing

@testable import HappyKit

/// `happy auth status --check` against `StubTransport`: what each answer means (PROTOCOL §7), the one deadline, and
/// that the home is only read.
@Suite struct AccountCheckTests {
    let sandbox = Sandbox()
    let transport = StubTransport()
    let timing = TestTiming()
    let server = "https://happy.test"
    static let profile = #"""
        {"id":"acct-1","timestamp":1,"firstName":"Ada","lastName":"Lovelace","username":"ada","avatar":null,
         "github":{"login":"ada-happy","id":1815},"connectedServices":[]}
        """#

    private func writeLogin(machineId: String? = "m/1") throws {
        try sandbox.write(#"{"token": "tok.check-123"}"#, to: sandbox.home.accessKeyPath)
        if let machineId { try sandbox.write(#"{"machineId": "\#(machineId)"}"#, to: sandbox.home.settingsPath) }
    }

    private func check(timeoutSeconds: Int = 15) async throws -> AccountCheck {
        let context = HappyContext.test(home: sandbox.home, transport: transport, timing: timing)
        return try await AccountCheck.run(
            .init(server: .test(server), caFile: nil, timeoutSeconds: timeoutSeconds), context: context)
    }

    @Test func anAcceptedTokenNamesTheAccountAndTheRegisteredMachine() async throws {
        try writeLogin()
        transport.on("GET", "/v1/account/profile", reply: .json(200, Self.profile))
        transport.on("GET", "/v1/machines/m%2F1", reply: .json(200, #"{"machine":{"id":"m/1","active":true}}"#))
        let result = try await check()
        #expect(result.exitStatus == .ok && result.accepted == true && result.machineRegistered == true)
        #expect(result.error == nil)
        #expect(result.accountDescription == "account: Ada Lovelace, GitHub @ada-happy")
        #expect(
            result.json.compact()
                == #"{"server":"https://happy.test","accepted":true,"account":{"id":"acct-1","name":"Ada Lovelace","#
                + #""github":"ada-happy"},"machineRegistered":true,"error":null}"#)
        // Both requests carry the stored token; the machine id is one escaped path segment.
        #expect(transport.requests.map(\.headers["Authorization"]) == ["Bearer tok.check-123", "Bearer tok.check-123"])
        #expect(transport.requests.map(\.method) == ["GET", "GET"])
        transport.verifyConsumed()
    }

    @Test func aMachineTheServerDoesNotKnowIsNotRegisteredYet() async throws {
        try writeLogin(machineId: "m-1")
        transport.on(
            "GET", "/v1/account/profile", reply: .json(200, #"{"id":"acct-2","firstName":null,"github":null}"#))
        transport.on("GET", "/v1/machines/m-1", reply: .json(404, #"{"error":"Machine not found"}"#))
        let result = try await check()
        #expect(result.exitStatus == .ok && result.accepted == true && result.machineRegistered == false)
        #expect(result.accountDescription == "account acct-2")
        transport.verifyConsumed()
    }

    @Test func withoutAMachineIdOnlyTheTokenIsChecked() async throws {
        try writeLogin(machineId: nil)
        transport.on("GET", "/v1/account/profile", reply: .json(200, "{}"))
        let result = try await check()
        #expect(result.exitStatus == .ok && result.machineRegistered == nil && result.accountDescription == nil)
        transport.verifyConsumed()
    }

    @Test(arguments: [401, 403])
    func aRefusedTokenIs77AndTheFilesStayAsTheyWere(status: Int) async throws {
        try writeLogin()
        let before = [sandbox.read(sandbox.home.accessKeyPath), sandbox.read(sandbox.home.settingsPath)]
        transport.on("GET", "/v1/account/profile", reply: .json(status, #"{"error":"Invalid token"}"#))
        let result = try await check()
        #expect(result.exitStatus == .refused && result.accepted == false && result.machineRegistered == nil)
        #expect(
            result.error
                == "happy: the server no longer accepts this login (HTTP \(status)); run happy auth login --force")
        #expect([sandbox.read(sandbox.home.accessKeyPath), sandbox.read(sandbox.home.settingsPath)] == before)
        #expect(sandbox.listing(sandbox.home.path) == ["access.key", "settings.json"])
        transport.verifyConsumed()
    }

    @Test func anUnreachableServerIs69() async throws {
        try writeLogin()
        transport.on(
            "GET", "/v1/account/profile",
            fail: HappyError.serverUnreachable(server: server, reason: "connection refused"))
        let result = try await check()
        #expect(result.exitStatus == .unavailable && result.accepted == nil)
        #expect(result.error?.contains("cannot reach https://happy.test: connection refused") == true)
        transport.verifyConsumed()
    }

    @Test(arguments: [
        (503, HappyKit.ExitStatus.unavailable), (429, .unavailable), (404, .badResponse), (302, .badResponse),
    ])
    func otherProfileAnswers(status: Int, exit: HappyKit.ExitStatus) async throws {
        try writeLogin()
        transport.on("GET", "/v1/account/profile", reply: .json(status, "{}"))
        let result = try await check()
        #expect(result.exitStatus == exit && result.accepted == nil)
        transport.verifyConsumed()
    }

    @Test func aMachineLookupRefusedAfterAnAcceptedProfileIsStill77() async throws {
        try writeLogin()
        transport.on("GET", "/v1/account/profile", reply: .json(200, Self.profile))
        transport.on("GET", "/v1/machines/m%2F1", reply: .json(401, "{}"))
        let result = try await check()
        #expect(result.exitStatus == .refused && result.accepted == false)
        transport.verifyConsumed()
    }

    /// One deadline for both requests: the second gets only what the first left, and none left is exit 69.
    @Test func theWholeCheckIsBoundedByOneDeadline() async throws {
        try writeLogin()
        transport.on("GET", "/v1/account/profile") { [timing] _ in
            timing.advance(by: .seconds(9))
            return .json(200, Self.profile)
        }
        transport.on("GET", "/v1/machines/m%2F1") { [timing] request in
            #expect(request.timeout == .seconds(1))
            timing.advance(by: .seconds(2))
            throw HappyError.serverUnreachable(server: "https://happy.test", reason: "no complete answer within 1 s")
        }
        let result = try await check(timeoutSeconds: 10)
        #expect(result.exitStatus == .unavailable)
        #expect(result.error?.contains("no answer within 10 s") == true)
        #expect(transport.requests.first?.timeout == .seconds(10))
        transport.verifyConsumed()
    }

    @Test func notLoggedInAsksNothing() async throws {
        let result = try await check()  // StubTransport fails the test on any request
        #expect(result.exitStatus == .failure && result.accepted == nil)
        #expect(transport.requests.isEmpty)
    }

    @Test func aCorruptAccessKeyIsReportedNotSent() async throws {
        try sandbox.write("{not json", to: sandbox.home.accessKeyPath)
        let result = try await check()
        #expect(result.exitStatus == .failure)
        #expect(result.error?.contains("access.key") == true)
        #expect(transport.requests.isEmpty)
    }
}
