import Foundation
import HappyKit
import Testing

@testable import HappyTestServer

/// The local server's browser hand-off (PROTOCOL §2, seed 000): returnTo checked by origin as Happier does, single-use
/// claim codes with a TTL, and the redirects' shapes. Forwarded mode over plain HTTP with identity headers.
@Suite("HappyTestServer browser hand-off")
struct TestServerHandoffTests {
    static let forwarded = [
        "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
        "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1", "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
    ]

    @Test func returnToIsCheckedByOriginNotByTextPrefix() {
        let list = ReturnToAllowList(entries: [
            "happier://", "https://app.example.com", "http://127.0.0.1",
            "https://web.example.com/mtls",
        ])
        for allowed in [
            "happier:///mtls?x=1", "https://app.example.com/cb", "https://APP.example.com:443/x",
            "http://127.0.0.1/cb", "https://web.example.com/mtls/done",
        ] {
            #expect(list.allows(allowed), "\(allowed)")
        }
        for refused in [
            "https://app.example.com.evil.com/", "http://app.example.com/", "https://app.example.com:8443/",
            "https://web.example.com/mtlsx", "https://web.example.com/", "javascript:alert(1)", "",
            "not a url", "https://evil.com/?https://app.example.com",
        ] {
            #expect(!list.allows(refused), "\(refused)")
        }
        // Happier compares effective ports, so an origin entry admits no ephemeral loopback port; only a scheme
        // entry does. (Why the README tells operators what it tells them.)
        #expect(!list.allows("http://127.0.0.1:54321/abc"))
        #expect(ReturnToAllowList(entries: ["http://"]).allows("http://127.0.0.1:54321/abc"))
    }

    @Test func startRedirectsToCompleteWhichIssuesASingleUseCode() async throws {
        let running = try await start(["HAPPIER_FEATURE_AUTH_MTLS__RETURN_TO_ALLOW_PREFIXES": "https://app.example.com"]
        )
        defer { Task { await running.stop() } }
        let browser = TestBrowser(identity: nil)
        let encoded = "https%3A%2F%2Fapp.example.com%2Fcb%3Fstate%3D1"  // encodeURIComponent of the returnTo
        let bad = try await browser.request(
            "GET", running.baseURL + "/v1/auth/mtls/start?returnTo=https%3A%2F%2Fevil.com%2F")
        #expect(bad.status == 400 && bad.body == #"{"error":"invalid-returnTo"}"#)

        let hops = try await browser.visit(
            running.baseURL + "/v1/auth/mtls/start?returnTo=\(encoded)",
            stopBefore: "https://app.example.com")
        #expect(hops.first?.location == "/v1/auth/mtls/complete?returnTo=\(encoded)")
        // Without identity headers /complete answers 401.
        #expect(hops.last?.status == 401 && hops.last?.body == #"{"error":"mtls-required"}"#)

        let complete = try await sendWithHeaders(
            running.baseURL + "/v1/auth/mtls/complete?returnTo=\(encoded)",
            ["x-happier-client-cert-email": "alice@example.com"])
        #expect(complete.status == 302)
        let location = try #require(complete.location)
        #expect(location.hasPrefix("https://app.example.com/cb?state=1&code="))
        let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
        let claim = try await browser.request(
            "POST", running.baseURL + "/v1/auth/mtls/claim", body: #"{"code":"\#(code)"}"#)
        #expect(claim.status == 200 && claim.body.hasPrefix(#"{"success":true,"token":""#))
        let again = try await browser.request(
            "POST", running.baseURL + "/v1/auth/mtls/claim", body: #"{"code":"\#(code)"}"#)
        #expect(again.status == 401 && again.body == #"{"error":"invalid-code"}"#)
    }

    @Test func codesExpireAfterTheTTL() async throws {
        let running = try await start([
            "HAPPIER_FEATURE_AUTH_MTLS__RETURN_TO_ALLOW_PREFIXES": "happier://",
            "HAPPIER_FEATURE_AUTH_MTLS__CLAIM_TTL_SECONDS": "1",
        ])
        defer { Task { await running.stop() } }
        let complete = try await sendWithHeaders(
            running.baseURL + "/v1/auth/mtls/complete?returnTo=happier%3A%2F%2F%2Fmtls",
            ["x-happier-client-cert-email": "alice@example.com"])
        let code = try #require(complete.location.flatMap { URLComponents(string: $0)?.queryItems?.first?.value })
        try await Task.sleep(for: .milliseconds(1200))
        let claim = try await TestBrowser(identity: nil).request(
            "POST", running.baseURL + "/v1/auth/mtls/claim", body: #"{"code":"\#(code)"}"#)
        #expect(claim.status == 401)
    }

    @Test func disabledServerAnswers404() async throws {
        let configuration = try TestServerConfiguration(host: "127.0.0.1", port: 0, environment: [:])
        let running = try await HappyTestServer(configuration: configuration, logLevel: "critical").start()
        defer { Task { await running.stop() } }
        let browser = TestBrowser(identity: nil)
        #expect(
            try await browser.request("GET", running.baseURL + "/v1/auth/mtls/start?returnTo=happier%3A%2F%2Fx").status
                == 404)
        #expect(
            try await browser.request("POST", running.baseURL + "/v1/auth/mtls/claim", body: #"{"code":"x"}"#).status
                == 404)
    }

    @Test func environmentParsing() throws {
        let defaults = try MTLSSettings(environment: ["HAPPIER_WEBAPP_URL": "https://web.example.com"])
        #expect(defaults.returnToAllowPrefixes == ["happier://", "https://web.example.com"])
        #expect(defaults.claimTTLSeconds == 60)
        #expect(throws: TestServerError.self) {
            try MTLSSettings(environment: ["HAPPIER_FEATURE_AUTH_MTLS__CLAIM_TTL_SECONDS": "-1"])
        }
    }

    private func start(_ env: [String: String]) async throws -> RunningTestServer {
        let configuration = try TestServerConfiguration(
            host: "127.0.0.1", port: 0, environment: Self.forwarded.merging(env) { $1 })
        return try await HappyTestServer(configuration: configuration, logLevel: "critical").start()
    }

    private func sendWithHeaders(_ url: String, _ headers: [String: String]) async throws
        -> (status: Int, location: String?)
    {
        let transport = try AsyncHTTPTransport(options: TransportOptions(useProxy: false), environment: [:])
        defer { Task { await transport.shutdown() } }
        let response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: headers))
        return (response.status, response.header("location"))
    }
}
