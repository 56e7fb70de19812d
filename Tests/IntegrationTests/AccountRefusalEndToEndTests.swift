import Foundation
import HappyKit
import Testing

/// Happier's account-level refusals on the real binary and the local server configured to give them: `403
/// e2ee-required` and `account-disabled` on `POST /v1/auth/mtls`, `error=account-disabled` (and `e2ee-required`) on
/// the hand-off callback, and `403 account-disabled` on the claim. Each ends with one line, 77, nothing written.
@Suite("Happier's account refusals end to end", .serialized)
struct AccountRefusalEndToEndTests {
    let certificateLogin = CertificateLoginEndToEndTests()
    let handoff = CertificateHandoffEndToEndTests()
    static let alice = ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")]

    @Test func e2eeRequiredOnCertificateLoginIs77() async throws {
        let server = try await LocalServer(
            environment: CertificateLoginEndToEndTests.directEnvironment([
                "HAPPY_TEST_SERVER_E2EE_REQUIRED_IDENTITIES": "alice@example.com"
            ]))
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await certificateLogin.login(server.url, scratch, Self.alice)
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("requires end-to-end encryption"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("certificate (keyless) login cannot be used"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("happy:") || $0.contains("error") }.count <= 1)
        #expect(certificateLogin.nothingWritten(scratch))
    }

    @Test func accountDisabledOnCertificateLoginIs77() async throws {
        let server = try await LocalServer(
            environment: CertificateLoginEndToEndTests.directEnvironment([
                "HAPPY_TEST_SERVER_DISABLED_IDENTITIES": "alice@example.com"
            ]))
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await certificateLogin.login(server.url, scratch, Self.alice)
        #expect(r.status == 77 && r.stderr.contains("account is disabled"), "stderr: \(r.stderr)")
        #expect(certificateLogin.nothingWritten(scratch))
    }

    @Test(arguments: [
        ("HAPPY_TEST_SERVER_DISABLED_IDENTITIES", "error=account-disabled", "account is disabled"),
        ("HAPPY_TEST_SERVER_E2EE_REQUIRED_IDENTITIES", "error=e2ee-required", "requires end-to-end encryption"),
    ])
    func refusalOnTheHandoffCallbackIs77(variable: String, callback: String, says: String) async throws {
        let server = try await CertificateHandoffEndToEndTests.directServer([variable: "alice@example.com"])
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await handoff.startLogin(server.url, scratch)
        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.last?.url.hasSuffix("?" + callback) == true, "\(hops.map(\.url))")
        #expect(await login.process.wait(seconds: 30) == 77)
        #expect(login.process.stderr.contains(says), "stderr: \(login.process.stderr)")
        #expect(handoff.nothingWritten(scratch))
    }

    @Test func accountDisabledOnTheClaimIs77() async throws {
        let server = try await CertificateHandoffEndToEndTests.directServer([
            "HAPPY_TEST_SERVER_DISABLED_AT_CLAIM_IDENTITIES": "alice@example.com"
        ])
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await handoff.startLogin(server.url, scratch)
        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.last?.url.contains("code=") == true, "\(hops.map(\.url))")
        #expect(await login.process.wait(seconds: 30) == 77)
        #expect(login.process.stderr.contains("account is disabled"), "stderr: \(login.process.stderr)")
        #expect(handoff.nothingWritten(scratch))
    }
}
