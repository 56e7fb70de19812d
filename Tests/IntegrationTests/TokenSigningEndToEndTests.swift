import Foundation
import HappyKit
import Testing

/// PKCS#11 signing through the module itself, no OpenSSL ENGINE (PROTOCOL §7), on the real binary. The module is
/// SoftHSM2 seen through OpenSC's `pkcs11-spy`, which logs every call `happy` makes: which mechanism signed, how many
/// times `C_Login` ran, and that the session was closed and the module finalised.
@Suite("happy auth login --cert pkcs11: signs through the module", .serialized)
struct TokenSigningEndToEndTests {
    static let uri = "pkcs11:token=happy-test;object=device"
    static let spy = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so"
    static let nowhere = "https://127.0.0.1:9"
    static var isAvailable: Bool { SoftHSMToken.isAvailable && FileManager.default.fileExists(atPath: spy) }

    /// The calls the spy logged, and the mechanisms passed to C_SignInit.
    struct SpyLog {
        let text: String
        func count(_ call: String) -> Int { text.components(separatedBy: ": \(call)\n").count - 1 }
        var mechanisms: [String] {
            text.split(separator: "\n").compactMap { line in
                line.contains("pMechanism->type = ")
                    ? line.components(separatedBy: "= ").last?.trimmingCharacters(in: .whitespaces) : nil
            }
        }
    }

    func login(
        _ server: String, _ scratch: Scratch, _ token: SoftHSMToken, pin: String = SoftHSMToken.pin,
        module: String = spy
    ) async throws -> (status: Int32, stdout: String, stderr: String, spy: SpyLog) {
        let env = TokenLoginEndToEndTests.environment(
            scratch, token,
            [
                "HAPPY_CERT_PASSWORD": pin, "PKCS11SPY": SoftHSMToken.module,
                "PKCS11SPY_OUTPUT": scratch.path + "/spy.log",
            ])
        let r = try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", server, "--ca", GeneratedPKI.path("ca.pem"), "--revocation-check", "off",
                "--cert", Self.uri, "--pkcs11-module", module,
            ], environment: env, in: scratch.path)
        let log = (try? String(contentsOfFile: scratch.path + "/spy.log", encoding: .utf8)) ?? ""
        return (r.status, r.stdout, r.stderr, SpyLog(text: log))
    }

    /// Every path ends with the session closed and the module finalised, after one login at most.
    func closedAndFinalised(_ spy: SpyLog) -> Bool {
        spy.count("C_Login") <= 1 && spy.count("C_OpenSession") == spy.count("C_CloseSession")
            && spy.count("C_Initialize") == 1 && spy.count("C_Finalize") == 1
    }

    /// TLS 1.3 (the test server in direct mode) makes an RSA key sign with RSA-PSS.
    @Test func rsaKeySignsWithPSSUnderTLS13() async throws {
        try #require(Self.isAvailable, "softhsm2 and opensc (pkcs11-spy) must be installed (make test does)")
        let token = try await SoftHSMToken(keyType: "rsa:2048")
        #expect(token.objects.contains("never extractable"), "\(token.objects)")
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(server.url, scratch, token)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.spy.mechanisms == ["CKM_RSA_PKCS_PSS"], "\(r.spy.mechanisms)")
        #expect(r.spy.count("C_Login") == 1 && closedAndFinalised(r.spy), "\(r.spy.text.suffix(2000))")
    }

    /// nginx pinned to TLS 1.2 and RSA+SHA256 client signatures: the token signs a PKCS#1 v1.5 DigestInfo.
    @Test func rsaKeySignsPKCS1UnderTLS12() async throws {
        try #require(Self.isAvailable, "softhsm2 and opensc (pkcs11-spy) must be installed (make test does)")
        let token = try await SoftHSMToken(keyType: "rsa:2048")
        let server = try await LocalServer(environment: [
            "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
            "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1", "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
            "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "subject_cn",
        ])
        defer { server.stopNow() }
        let nginx = try await NginxProxy(
            upstream: server.url,
            tlsDirectives: "ssl_protocols TLSv1.2; ssl_conf_command ClientSignatureAlgorithms RSA+SHA256;")
        defer { nginx.stopNow() }
        let scratch = try Scratch()
        let r = try await login(nginx.url, scratch, token)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.spy.mechanisms == ["CKM_RSA_PKCS"], "\(r.spy.mechanisms)")
        #expect(closedAndFinalised(r.spy))
        let identities = try await TestBrowser(identity: nil).request("GET", server.url + "/_test/mtls-identities")
        #expect(identities.body.contains("token user"), "\(identities.body)")
    }

    /// A P-256 key signs with CKM_ECDSA over a local digest; the server checks the DER signature.
    @Test func p256KeySignsWithECDSA() async throws {
        try #require(Self.isAvailable, "softhsm2 and opensc (pkcs11-spy) must be installed (make test does)")
        let token = try await SoftHSMToken(keyType: "EC:prime256v1")
        #expect(token.objects.contains("never extractable"), "\(token.objects)")
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(server.url, scratch, token)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.spy.mechanisms == ["CKM_ECDSA"], "\(r.spy.mechanisms)")
        #expect(closedAndFinalised(r.spy))
    }

    /// A wrong PIN costs the token exactly one try: one C_Login, then the session closed and the module finalised.
    @Test func aWrongPINIsTriedOnce() async throws {
        try #require(Self.isAvailable, "softhsm2 and opensc (pkcs11-spy) must be installed (make test does)")
        let token = try await SoftHSMToken()
        let scratch = try Scratch()
        let r = try await login(Self.nowhere, scratch, token, pin: "9999")
        #expect(r.status == 77 && r.stderr.contains("wrong PIN"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(r.spy.count("C_Login") == 1, "\(r.spy.count("C_Login")) C_Login calls")
        #expect(r.spy.text.contains("CKR_PIN_INCORRECT"))
        #expect(closedAndFinalised(r.spy))
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    /// Not a module: one line, 77, nothing else (no loader text, no "no certificate object"); a FIFO never blocks.
    @Test(arguments: ["fifo", "/dev/zero", "directory", "libc", "text"])
    func somethingThatIsNotAModuleIs77(kind: String) async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2 and opensc must be installed (make test does)")
        let token = try await SoftHSMToken()
        let scratch = try Scratch()
        let module: String
        switch kind {
        case "fifo":
            module = scratch.path + "/module.so"
            #expect(mkfifo(module, 0o600) == 0)
        case "directory": module = scratch.path
        case "libc": module = "/lib/x86_64-linux-gnu/libc.so.6"
        case "text":
            module = scratch.path + "/module.so"
            try "not ELF\n".write(toFile: module, atomically: true, encoding: .utf8)
        default: module = kind
        }
        let started = Date()
        let r = try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", Self.nowhere, "--revocation-check", "off", "--cert", Self.uri,
                "--pkcs11-module", module,
            ],
            environment: TokenLoginEndToEndTests.environment(scratch, token, ["HAPPY_CERT_PASSWORD": "1234"]),
            in: scratch.path, seconds: 20)
        #expect(Date().timeIntervalSince(started) < 10, "took \(Date().timeIntervalSince(started)) s")
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("is not a PKCS#11 module"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(!r.stderr.contains("no certificate object"), "stderr: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    /// The same module, reached through HAPPY_PKCS11_MODULE, is checked the same way.
    @Test func theEnvironmentsModuleIsCheckedToo() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2 and opensc must be installed (make test does)")
        let token = try await SoftHSMToken()
        let scratch = try Scratch()
        let fifo = scratch.path + "/module.so"
        #expect(mkfifo(fifo, 0o600) == 0)
        let r = try await Spawned.run(
            Binaries.happy,
            ["auth", "login", "--server", Self.nowhere, "--revocation-check", "off", "--cert", Self.uri],
            environment: TokenLoginEndToEndTests.environment(
                scratch, token, ["HAPPY_CERT_PASSWORD": "1234", "HAPPY_PKCS11_MODULE": fifo]),
            in: scratch.path, seconds: 20)
        #expect(r.status == 77 && r.stderr.contains("is not a PKCS#11 module"), "stderr: \(r.stderr)")
    }
}
