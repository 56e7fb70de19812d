import Foundation
import HappyKit
import Testing

/// `happy auth login --cert 'pkcs11:…'` with the real binary (PROTOCOL §6): a fresh SoftHSM2 token per test whose key
/// was generated on the token as non-extractable, OpenSSL's pkcs11 engine, and the local server in direct mode, which
/// verifies the handshake signature the token made. Every error path exits with its code before any network.
@Suite("happy auth login --cert pkcs11: end to end", .serialized)
struct TokenLoginEndToEndTests {
    static let uri = "pkcs11:token=happy-test;object=device"
    static let nowhere = "https://127.0.0.1:9"

    /// A clean environment: no proxy variables, HAPPY_CA_FILE, LANG or NO_COLOR from the runner.
    static func environment(_ scratch: Scratch, _ token: SoftHSMToken, _ extra: [String: String] = [:])
        -> [String: String]
    {
        ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path, "HAPPY_HOME_DIR": scratch.home]
            .merging(token.environment) { $1 }.merging(extra) { $1 }
    }

    func login(
        _ server: String, _ scratch: Scratch, _ token: SoftHSMToken, _ args: [String],
        env: [String: String] = ["HAPPY_CERT_PASSWORD": SoftHSMToken.pin]
    )
        async throws -> (status: Int32, stdout: String, stderr: String)
    {
        try await Spawned.run(
            Binaries.happy,
            ["auth", "login", "--server", server, "--ca", GeneratedPKI.path("ca.pem"), "--revocation-check", "off"]
                + args,
            environment: Self.environment(scratch, token, env), in: scratch.path)
    }

    func nothingWritten(_ scratch: Scratch) -> Bool { !FileManager.default.fileExists(atPath: scratch.home) }

    @Test func logsInWithAKeyThatNeverLeavesTheToken() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken()
        #expect(token.objects.contains("never extractable"), "\(token.objects)")
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            server.url, scratch, token,
            ["--cert", Self.uri, "--pkcs11-module", SoftHSMToken.module])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("most likely identify you as token@example.com"), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains(SoftHSMToken.pin) && !r.stdout.contains(SoftHSMToken.pin))
        let text = try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8)
        let json = try JSONParser.parse(text)
        #expect(json["certificate"]?["uri"]?.stringValue == Self.uri)
        #expect(json["certificate"]?["identity"]?.stringValue == "token@example.com")
        #expect(!text.contains("pin") && !text.contains(SoftHSMToken.pin))

        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status"], environment: Self.environment(scratch, token), in: scratch.path)
        #expect(status.status == 0 && status.stdout.contains("Token: \(Self.uri)"), "\(status.stdout)")
    }

    /// Forwarded mode: nginx (`ssl_verify_client on`) verifies the chain and the token's handshake signature.
    @Test func forwardedModeThroughNginx() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken()
        let server = try await LocalServer(environment: [
            "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
            "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1", "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
            "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "subject_cn",
        ])
        defer { server.stopNow() }
        let nginx = try await NginxProxy(upstream: server.url)
        defer { nginx.stopNow() }
        let scratch = try Scratch()
        let r = try await login(
            nginx.url, scratch, token, ["--cert", Self.uri, "--pkcs11-module", SoftHSMToken.module])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try JSONParser.parse(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8))
        #expect(json["certificate"]?["uri"]?.stringValue == Self.uri)
        let identities = try await TestBrowser(identity: nil).request("GET", server.url + "/_test/mtls-identities")
        #expect(identities.body.contains("token user"), "\(identities.body)")
    }

    /// The module from HAPPY_PKCS11_MODULE, the PIN from --cert-password-file, the object chosen by id.
    @Test func moduleFromTheEnvironmentAndPINFromAFile() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken(keyType: "rsa:2048")
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        try "1234\n".write(toFile: scratch.path + "/pin", atomically: true, encoding: .utf8)
        let r = try await login(
            server.url, scratch, token,
            ["--cert", "pkcs11:token=happy-test;id=%01", "--cert-password-file", scratch.path + "/pin"],
            env: ["HAPPY_PKCS11_MODULE": SoftHSMToken.module])
        #expect(r.status == 0, "stderr: \(r.stderr)")
    }

    /// Without --pkcs11-module or HAPPY_PKCS11_MODULE, p11-kit's proxy finds SoftHSM through its module registry.
    @Test func p11KitProxyIsTheDefault() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken()
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        // p11-kit reads user module configs from ~/.config/pkcs11/modules (HOME is the scratch directory).
        let modules = scratch.path + "/.config/pkcs11/modules"
        try FileManager.default.createDirectory(atPath: modules, withIntermediateDirectories: true)
        try "module: \(SoftHSMToken.module)\n".write(
            toFile: modules + "/softhsm2.module", atomically: true,
            encoding: .utf8)
        let r = try await login(server.url, scratch, token, ["--cert", Self.uri])
        #expect(r.status == 0, "stderr: \(r.stderr)")
    }

    /// The revocation preflight for a token certificate: the token holds only the leaf, so the issuer comes from
    /// the --ca bundle; a revoked token certificate stops the login with 77 before the Happy server.
    @Test func revokedTokenCertificateIsRefused() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken(withAIA: true)
        let responder = try await OCSPResponder(revoking: [try await token.serial()])
        defer { responder.stop() }
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", Self.nowhere, "--ca", GeneratedPKI.path("ca.pem"), "--cert", Self.uri,
                "--pkcs11-module", SoftHSMToken.module,
            ],
            environment: Self.environment(scratch, token, ["HAPPY_CERT_PASSWORD": SoftHSMToken.pin]),
            in: scratch.path)
        #expect(r.status == 77 && r.stderr.contains("keyCompromise"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    /// The issuer found on the token itself: no --ca, and still a verified "revoked".
    @Test func issuerFromTheTokenServesTheRevocationCheck() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken(withAIA: true)
        try await token.storeCA()
        let responder = try await OCSPResponder(revoking: [try await token.serial()])
        defer { responder.stop() }
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", Self.nowhere, "--revocation-check", "strict", "--cert", Self.uri,
                "--pkcs11-module", SoftHSMToken.module,
            ],
            environment: Self.environment(scratch, token, ["HAPPY_CERT_PASSWORD": SoftHSMToken.pin]),
            in: scratch.path)
        #expect(r.status == 77 && r.stderr.contains("keyCompromise"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test(
        arguments: [
            (["--cert", uri], ["HAPPY_CERT_PASSWORD": "9999"], "wrong PIN"),
            (
                ["--cert", "pkcs11:token=happy-test;object=nothing-here"], ["HAPPY_CERT_PASSWORD": "1234"],
                "no certificate object matches"
            ),
            (
                ["--cert", "pkcs11:token=no-such-token;object=device"], ["HAPPY_CERT_PASSWORD": "1234"],
                "no certificate object matches"
            ),
            (
                ["--cert", uri, "--pkcs11-module", "/nonexistent/module.so"], ["HAPPY_CERT_PASSWORD": "1234"],
                "does not exist"
            ),
            (["--cert", uri], [:], "PIN is needed"),
        ] as [([String], [String: String], String)])
    func errorsExit77WithOneLineAndNoNetwork(args: [String], env: [String: String], says: String) async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken()
        let scratch = try Scratch()
        let module = args.contains("--pkcs11-module") ? [] : ["--pkcs11-module", SoftHSMToken.module]
        let r = try await login(Self.nowhere, scratch, token, args + module, env: env)
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(says), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(!r.stderr.contains("9999") && !r.stderr.contains("1234"))
        #expect(nothingWritten(scratch))
    }

    @Test func aCertificateWithoutItsKeyIs77() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken()
        try await token.deletePrivateKey()
        let scratch = try Scratch()
        let r = try await login(
            Self.nowhere, scratch, token, ["--cert", Self.uri, "--pkcs11-module", SoftHSMToken.module])
        #expect(r.status == 77 && r.stderr.contains("no private key object matches"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    @Test(arguments: [
        (["--cert", "pkcs11:token=happy-test;object=device;pin-value=1234"], "pin-value"),
        (["--cert", "pkcs11:token=happy-test?pin-value=1234"], "pin-value"),
        (["--cert", uri, "--key", "/tmp/x.key"], "--key"),
        (["--cert", "pkcs11:"], "selects nothing"),
        (["--cert", "pkcs11:token=a%zz"], "malformed"),
        (["--cert", "alice.pem", "--pkcs11-module", "/x.so"], "--pkcs11-module needs"),
    ])
    func usageErrorsExit64(args: [String], says: String) async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", Self.nowhere] + args,
            environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path, "HAPPY_HOME_DIR": scratch.home],
            in: scratch.path)
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(says), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("1234") || says != "pin-value")
        #expect(nothingWritten(scratch))
    }
}
