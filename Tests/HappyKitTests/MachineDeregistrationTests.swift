import Foundation
import Testing

@testable import HappyKit

/// `happy auth logout --deregister`'s server step (PROTOCOL §7): one line for every outcome, never an error, so the
/// local logout always goes on; and the logout runs it after stopping the daemon, before removing any file.
@Suite struct MachineDeregistrationTests {
    let sandbox = Sandbox()
    let transport = StubTransport()
    let timing = TestTiming()

    private func writeLogin() throws {
        try sandbox.write(#"{"token": "tok.dereg-123"}"#, to: sandbox.home.accessKeyPath)
        try sandbox.write(#"{"machineId": "m-1"}"#, to: sandbox.home.settingsPath)
    }

    private func deregister(console: Console) async throws {
        let context = HappyContext.test(home: sandbox.home, console: console, transport: transport, timing: timing)
        try await MachineDeregistration(server: .test("https://happy.test:8443"), caFile: nil, context: context).run()
    }

    @Test func removesTheMachineWithTheStoredToken() async throws {
        try writeLogin()
        transport.on("DELETE", "/v1/machines/m-1", reply: .json(200, #"{"success":true}"#))
        let (console, screen) = Console.recording()
        try await deregister(console: console)
        #expect(screen.out == ["✓ Removed this machine from the account on happy.test:8443"])
        #expect(screen.err.isEmpty)
        #expect(transport.requests.first?.headers["Authorization"] == "Bearer tok.dereg-123")
        #expect(transport.requests.first?.timeout == .seconds(MachineDeregistration.timeoutSeconds))
        transport.verifyConsumed()
    }

    @Test func aMachineTheAccountDoesNotHaveIsNothingToRemove() async throws {
        try writeLogin()
        transport.on("DELETE", "/v1/machines/m-1", reply: .json(404, #"{"error":"Machine not found"}"#))
        let (console, screen) = Console.recording()
        try await deregister(console: console)
        #expect(
            screen.out == [
                "This machine was not registered on the account on happy.test:8443; nothing to remove there."
            ])
        transport.verifyConsumed()
    }

    @Test(arguments: [
        (
            404, #"{"message":"Route DELETE:/v1/machines/m-1 not found","error":"Not Found","statusCode":404}"#,
            "the server cannot remove machines (HTTP 404). Remove it in the Happy app if it is still listed."
        ),
        (
            405, #"{"error":"Method Not Allowed"}"#,
            "the server cannot remove machines (HTTP 405). Remove it in the Happy app if it is still listed."
        ),
        (
            401, #"{"error":"Invalid token"}"#,
            "the server no longer accepts this login (HTTP 401). Remove it in the Happy app if it is still listed."
        ),
        (503, "", "the server answered HTTP 503."),
    ])
    func aServerThatCannotRemoveItIsOneLine(status: Int, body: String, why: String) async throws {
        try writeLogin()
        transport.on("DELETE", "/v1/machines/m-1", reply: .json(status, body))
        let (console, screen) = Console.recording()
        try await deregister(console: console)
        #expect(screen.err == ["⚠ This machine could not be removed from the account on happy.test:8443: \(why)"])
        #expect(screen.out.isEmpty)
        transport.verifyConsumed()
    }

    @Test func anUnreachableServerIsOneLine() async throws {
        try writeLogin()
        transport.on(
            "DELETE", "/v1/machines/m-1",
            fail: HappyError.serverUnreachable(server: "https://happy.test:8443", reason: "connection refused"))
        let (console, screen) = Console.recording()
        try await deregister(console: console)
        #expect(
            screen.err == [
                "⚠ This machine could not be removed from the account on happy.test:8443: cannot reach it "
                    + "(connection refused)."
            ])
        transport.verifyConsumed()
    }

    @Test func withoutAMachineIdNothingIsAsked() async throws {
        try sandbox.write(#"{"token": "tok.dereg-123"}"#, to: sandbox.home.accessKeyPath)
        let (console, screen) = Console.recording()
        try await deregister(console: console)
        #expect(
            screen.err == [
                "⚠ No machine ID is stored, so there is no machine to remove from the account on happy.test:8443."
            ])
        #expect(transport.requests.isEmpty)
    }

    /// Through the logout: asked after confirmation, before the files go; the logout then finishes as usual.
    @Test func theLogoutAsksBeforeRemovingFilesAndGoesOn() async throws {
        try writeLogin()
        let home = sandbox.home
        transport.on("DELETE", "/v1/machines/m-1") { _ in
            #expect(FileManager.default.fileExists(atPath: home.accessKeyPath))  // still there while asking
            return .json(405, "{}")
        }
        let (console, screen) = Console.recording()
        let context = HappyContext.test(home: home, console: console, transport: transport, timing: timing)
        let step = MachineDeregistration(server: .test("https://happy.test"), caFile: nil, context: context)
        try await LogoutFlow(context: context).run(
            assumeYes: true, beforeClearing: { try await step.run() })
        #expect(!sandbox.exists(home.path))
        #expect(screen.out.last == "Logged out.")
        transport.verifyConsumed()
    }
}
