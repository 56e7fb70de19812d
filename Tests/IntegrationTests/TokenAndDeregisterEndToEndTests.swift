import Foundation
import HappyKit
import Testing

/// `happy auth token` and `happy auth logout --deregister` on the real binary against the real local server
/// (PROTOCOL §7).
@Suite("happy auth token and logout --deregister end to end", .serialized)
struct TokenAndDeregisterEndToEndTests {
    func run(_ arguments: [String], _ scratch: Scratch, server: String = "http://127.0.0.1:1") async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await Spawned.run(
            Binaries.happy, arguments,
            environment: TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HAPPY_SERVER_URL": server]),
            in: scratch.path)
    }

    // MARK: auth token

    @Test func tokenPrintsTheStoredTokenAndANewlineAndNothingElse() async throws {
        let scratch = try Scratch()
        try scratch.keylessLogin(token: "tok.en-AZaz09_~+/=")
        let keyless = try await run(["auth", "token"], scratch)
        #expect(keyless.status == 0)
        #expect(Array(keyless.stdout.utf8) == Array("tok.en-AZaz09_~+/=\n".utf8))
        #expect(keyless.stderr.isEmpty)

        let legacy = try Scratch()
        _ = try legacy.legacyLoggedInHome()
        let other = try await run(["auth", "token"], legacy)
        #expect(other.status == 0 && other.stdout == "tok.en\n", "stderr: \(other.stderr)")
    }

    @Test func tokenWhenLoggedOutOrDamagedIsOneLineAndExit1() async throws {
        let scratch = try Scratch()
        let loggedOut = try await run(["auth", "token"], scratch)
        #expect(loggedOut.status == 1 && loggedOut.stdout.isEmpty)
        #expect(loggedOut.stderr == "happy: not logged in, so there is no token; run `happy auth login` first\n")

        try scratch.keylessLogin(token: "tok.en")
        try "{\"token\": 42}".write(toFile: scratch.home + "/access.key", atomically: false, encoding: .utf8)
        let damaged = try await run(["auth", "token"], scratch)
        #expect(damaged.status == 1 && damaged.stdout.isEmpty)
        #expect(damaged.stderr.hasPrefix("happy: \(scratch.home)/access.key: has no token"))
        #expect(damaged.stderr.split(separator: "\n").count == 1)
    }

    // MARK: logout --deregister

    @Test func deregisterRemovesTheMachineFromTheAccountThenLogsOut() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let token = try await server.mintToken()
        try scratch.keylessLogin(token: token)
        try await server.registerMachine("m-1", token: token)

        let logout = try await run(["auth", "logout", "--yes", "--deregister"], scratch, server: server.url)
        #expect(logout.status == 0, "stderr: \(logout.stderr)")
        let host = server.url.dropFirst("http://".count)
        #expect(logout.stdout.contains("✓ Removed this machine from the account on \(host)"))
        #expect(logout.stdout.contains("Logged out."))
        #expect(try await server.machines() == [])
        #expect(try await server.requestLog() == ["DELETE /v1/machines/m-1"])
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test(arguments: ["404", "405"])
    func aServerWithoutTheRouteIsOneLineAndTheLogoutGoesOn(mode: String) async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let token = try await server.mintToken()
        try scratch.keylessLogin(token: token)
        try await server.registerMachine("m-1", token: token)
        _ = try await server.controlReply("/_test/machine-delete-route", json: #"{"mode": "\#(mode)"}"#)

        let logout = try await run(["auth", "logout", "--yes", "--deregister"], scratch, server: server.url)
        #expect(logout.status == 0, "stderr: \(logout.stderr)")
        let host = server.url.dropFirst("http://".count)
        #expect(
            logout.stderr
                == "⚠ This machine could not be removed from the account on \(host): the server cannot remove "
                + "machines (HTTP \(mode)). Remove it in the Happy app if it is still listed.\n")
        #expect(logout.stdout.contains("Logged out."))
        #expect(try await server.machines() == ["m-1"])
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test func anUnreachableServerIsOneLineAndTheLogoutGoesOn() async throws {
        let scratch = try Scratch()
        try scratch.keylessLogin(token: "tok.en")
        let url = "http://127.0.0.1:\(try closedLoopbackPort())"
        let logout = try await run(["auth", "logout", "--yes", "--deregister"], scratch, server: url)
        #expect(logout.status == 0, "stderr: \(logout.stderr)")
        #expect(logout.stderr.hasPrefix("⚠ This machine could not be removed from the account on 127.0.0.1:"))
        #expect(logout.stderr.contains("cannot reach it"))
        #expect(logout.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test func withoutTheFlagLogoutNeverAsksTheServer() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let token = try await server.mintToken()
        try scratch.keylessLogin(token: token)
        try await server.registerMachine("m-1", token: token)
        let logout = try await run(["auth", "logout", "--yes"], scratch, server: server.url)
        #expect(logout.status == 0, "stderr: \(logout.stderr)")
        #expect(try await server.requestLog() == [])
        #expect(try await server.machines() == ["m-1"])
        let usage = try await run(["auth", "logout", "--yes", "--server", server.url], scratch, server: server.url)
        #expect(usage.status == 64 && usage.stderr.contains("apply to --deregister only"))
    }
}
