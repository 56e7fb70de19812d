import Foundation
import Testing

/// `--timeout` bounds the whole login, whatever the method (one `Deadline` in `LoginFlow`): the browser hand-off's
/// claim, made after the callback arrived, ends with the login's deadline (75) even when the server trickles its
/// answer, instead of running on for the API's own 15 s request limit.
@Suite("the login's one deadline", .serialized)
struct LoginDeadlineEndToEndTests {
    @Test func theHandoffClaimEndsWithTheLoginsDeadline() async throws {
        let server = try await HostileServer("trickle")
        defer { server.stopNow() }
        let scratch = try Scratch()
        let env = TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home])
        let started = Date()
        let login = try Spawned(
            Binaries.happy,
            ["auth", "login", "--method", "certificate", "--no-browser", "--timeout", "8", "--server", server.httpURL],
            environment: env, in: scratch.path)
        try await login.waitForOutput { $0.contains("returnTo=") && $0.hasSuffix("\n") }
        let line = try #require(login.stdout.split(separator: "\n").first { $0.contains("/v1/auth/mtls/start") })
        let returnTo = try #require(
            URLComponents(string: String(line))?.queryItems?.first { $0.name == "returnTo" }?.value)
        // The browser's last hop: the listener answers at once, then happy claims the code from the trickling server.
        let hops: [TestBrowser.Hop]
        do { hops = try await TestBrowser(identity: nil).visit(returnTo + "?code=the-code") } catch {
            Issue.record("\(error); \(returnTo); happy said: \(login.stdout) \(login.stderr)")
            return
        }
        #expect(hops.last?.status == 200)
        let status = await login.wait(seconds: 30)
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 75, "\(login.stderr)")
        #expect(elapsed < 14, "the claim ran \(elapsed) s, past an 8 s login")
        #expect(login.stderr.contains("within 8 s"), "\(login.stderr)")
        #expect(server.requests.contains { $0.hasPrefix("POST /v1/auth/mtls/claim") }, "\(server.requests)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }
}
