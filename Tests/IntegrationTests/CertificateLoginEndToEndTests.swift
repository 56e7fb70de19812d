import Foundation
import HappyKit
import Testing

/// `happy auth login --cert` with the real binary: direct mode against the local server's own TLS listener, and
/// forwarded mode through a real nginx. Every outcome of PROTOCOL §2 with its exit code; nothing written on failure.
@Suite("happy auth login --cert end to end", .serialized)
struct CertificateLoginEndToEndTests {
    static func directEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1",
            "HAPPIER_FEATURE_AUTH_MTLS__MODE": "direct",
            "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
            "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "san_email",
            "HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_EMAIL_DOMAINS": "example.com",
            "HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_ISSUERS": "Happy Test Root CA",
            "HAPPY_TEST_SERVER_TLS_CERT": GeneratedPKI.path("server.pem"),
            "HAPPY_TEST_SERVER_TLS_KEY": GeneratedPKI.path("server.key"),
            "HAPPY_TEST_SERVER_CLIENT_CA": GeneratedPKI.path("ca.pem"),
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Forwarded mode behind nginx (`NginxProxy`): identity from the subject CN, issuer allow-listed.
    static let forwardedEnvironment = [
        "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1",
        "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
        "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1",
        "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
        "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "subject_cn",
        "HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_ISSUERS": "cn=happy test root ca",
    ]

    func login(
        _ server: String, _ scratch: Scratch, _ args: [String], ca: Bool = true,
        env extra: [String: String] = [:]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let env = TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home].merging(extra) { $1 })
        let caArgs = ca ? ["--ca", GeneratedPKI.path("ca.pem")] : []
        return try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", server] + caArgs + args,
            environment: env, in: scratch.path)
    }

    func nothingWritten(_ scratch: Scratch) -> Bool { !FileManager.default.fileExists(atPath: scratch.home) }

    @Test func directModeLogsInKeylessAndStatusShowsTheCertificate() async throws {
        let server = try await LocalServer(environment: Self.directEnvironment())
        defer { server.stopNow() }
        #expect(server.url.hasPrefix("https://"))
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("most likely identify you as alice@example.com"))
        let text = try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8)
        let json = try JSONParser.parse(text)
        #expect(json["secret"] == nil && json["encryption"] == nil)
        #expect(json["certificate"]?["identity"]?.stringValue == "alice@example.com")
        let token = try #require(json["token"]?.stringValue)

        let env = TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home])
        let status = try await Spawned.run(Binaries.happy, ["auth", "status"], environment: env, in: scratch.path)
        #expect(status.status == 0)
        #expect(status.stdout.contains("keyless") && status.stdout.contains("Identity: alice@example.com"))
        #expect(status.stdout.contains("Certificate expires:") && !status.stdout.contains(token))
        let js = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env, in: scratch.path)
        #expect(
            try JSONParser.parse(js.stdout.trimmingCharacters(in: .newlines))["certificate"]?["identity"]?.stringValue
                == "alice@example.com")
    }

    @Test func pkcs12WithPasswordFileAndCombinedPEMBothWork() async throws {
        let server = try await LocalServer(environment: Self.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        try "correct horse\n".write(toFile: scratch.path + "/pw", atomically: true, encoding: .utf8)
        let p12 = try await login(
            server.url, scratch,
            ["--cert", GeneratedPKI.path("alice.p12"), "--cert-password-file", scratch.path + "/pw"])
        #expect(p12.status == 0, "stderr: \(p12.stderr)")
        let other = try Scratch()
        let combined = try await login(server.url, other, ["--cert", GeneratedPKI.path("alice-combined.pem")])
        #expect(combined.status == 0, "stderr: \(combined.stderr)")
        let wrong = try Scratch()
        let bad = try await login(
            server.url, wrong, ["--cert", GeneratedPKI.path("alice.p12")], env: ["HAPPY_CERT_PASSWORD": "nope"])
        #expect(bad.status == 77 && nothingWritten(wrong), "stderr: \(bad.stderr)")
    }

    @Test func untrustedServerIs69WithACaHint() async throws {
        let server = try await LocalServer(environment: Self.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")],
            ca: false)
        #expect(r.status == 69, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--ca"))
        #expect(nothingWritten(scratch))
    }

    @Test func certificateOfAnotherCAIsRefusedInTheHandshake() async throws {
        let server = try await LocalServer(environment: Self.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch,
            ["--cert", GeneratedPKI.path("other-ca-client.pem"), "--key", GeneratedPKI.path("other-ca-client.key")])
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("did not accept this certificate"))
        #expect(nothingWritten(scratch))
    }

    @Test func otherDomainIsNotEligible403() async throws {
        let server = try await LocalServer(environment: Self.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch,
            ["--cert", GeneratedPKI.path("bob-other-domain.pem"), "--key", GeneratedPKI.path("bob-other-domain.key")])
        #expect(r.status == 77 && r.stderr.contains("not-eligible"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test func unknownIdentityWithoutAutoProvisioningIs403() async throws {
        let server = try await LocalServer(
            environment: Self.directEnvironment(["HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "0"]))
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")])
        #expect(r.status == 77 && r.stderr.contains("auto-provisioning is off"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test func e2eeIdentityIsRestoreRequired409() async throws {
        let server = try await LocalServer(
            environment: Self.directEnvironment(["HAPPY_TEST_SERVER_E2EE_IDENTITIES": "alice@example.com"]))
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")])
        #expect(
            r.status == 77 && r.stderr.contains("restore-required") && r.stderr.contains("QR"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test func serverWithoutMTLSIs404AndSaysSo() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")],
            ca: false)
        #expect(r.status == 1 && r.stderr.contains("mTLS login is not enabled"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test(arguments: [
        (["--cert", "expired.pem", "--key", "expired.key"], "expired"),
        (["--cert", "not-yet-valid.pem", "--key", "not-yet-valid.key"], "not valid"),
        (["--cert", "mismatch.pem", "--key", "mismatch.key"], "key"),
        (["--cert", "garbage.pem"], "garbage.pem"),
        (["--cert", "missing.pem"], "missing.pem"),
    ])
    func localChecksFailWith77BeforeAnyNetwork(args: [String], mentions: String) async throws {
        let scratch = try Scratch()
        let resolved = args.map { $0.hasSuffix(".pem") || $0.hasSuffix(".key") ? GeneratedPKI.path($0) : $0 }
        // Port 9 on loopback: nothing listens, so reaching the network would exit 69, not 77.
        let r = try await login("https://127.0.0.1:9", scratch, resolved)
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.lowercased().contains(mentions.lowercased()), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count <= 2)
        #expect(nothingWritten(scratch))
    }

    @Test func forwardedModeThroughNginx() async throws {
        let server = try await LocalServer(environment: Self.forwardedEnvironment)
        defer { server.stopNow() }
        let nginx = try await NginxProxy(upstream: server.url)
        defer { nginx.stopNow() }

        let scratch = try Scratch()
        let ok = try await login(
            nginx.url, scratch, ["--cert", GeneratedPKI.path("cn-only.pem"), "--key", GeneratedPKI.path("cn-only.key")])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        let json = try JSONParser.parse(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8))
        #expect(json["certificate"]?["identity"]?.stringValue == "dave-laptop")

        // nginx verifies the chain itself: a certificate of another CA never reaches the server.
        let other = try Scratch()
        let refused = try await login(
            nginx.url, other,
            ["--cert", GeneratedPKI.path("other-ca-client.pem"), "--key", GeneratedPKI.path("other-ca-client.key")])
        #expect(
            refused.status == 77 && refused.stderr.contains("did not accept this certificate"),
            "stderr: \(refused.stderr)")
        #expect(nothingWritten(other))
    }

    /// A forwarded-mode server reached without its proxy sees no certificate: 401, with the proxy hint.
    @Test func noCertificateReachingTheServerIs401() async throws {
        let server = try await LocalServer(environment: [
            "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1",
            "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
            "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1",
            "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
        ])
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, ["--cert", GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key")],
            ca: false)
        #expect(r.status == 77 && r.stderr.contains("saw no client certificate"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }
}
