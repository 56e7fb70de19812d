import Foundation
import HappyKit
import Testing

/// The device login while it waits, on the real binary against the real local server (PROTOCOL §7): it names the
/// server it polls, and a request the server lets expire (410) ends it within a poll interval with exit 75.
@Suite("happy auth login waiting end to end", .serialized)
struct LoginWaitEndToEndTests {
    func startLogin(_ scratch: Scratch, _ server: LocalServer) async throws -> (Spawned, String) {
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "60"],
            environment: TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HAPPY_SERVER_URL": server.url]),
            in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        return (login, String(url))
    }

    @Test func theWaitingLineNamesTheServer() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(scratch, server)
        defer { login.stopNow() }
        let host = server.url.dropFirst("http://".count)
        try await login.waitForErrorOutput { $0.contains("Waiting for approval from \(host) (timeout 60 s)...") }
        #expect(try await server.approve(url) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
    }

    @Test func anExpiredRequestEndsTheLoginWithinAPollIntervalWith75AndWritesNothing() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(scratch, server)
        defer { login.stopNow() }
        try await login.waitForErrorOutput { $0.contains("Waiting for approval") }
        let expired = try await server.controlReply("/_test/expire", json: #"{"publicKey": "\#(url)"}"#)
        #expect(expired["expired"]?.intValue == 1)
        let started = Date()
        #expect(await login.wait(seconds: 10) == 75)
        // The reference polls once a second: the next poll sees the 410 and the login ends at once.
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(
            login.stderr.hasSuffix(
                "happy: the server let this login request expire before it was approved; nothing was written. "
                    + "Run `happy auth login` again.\n"), "stderr: \(login.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }
}
