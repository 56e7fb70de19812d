import Foundation
import HappyKit
import Testing

/// `happy auth login --cert device.pem --key device.tss2.pem` with the real binary (PROTOCOL §7): a key made inside a
/// software TPM (swtpm) by OpenSSL's tpm2 provider, a certificate the test CA issued for it, and nginx verifying the
/// handshake signature the TPM made. With the TPM gone, the login ends with one line naming it, 77, nothing written.
@Suite("happy auth login with a TPM key end to end", .serialized)
struct TPMKeyLoginEndToEndTests {
    static let forwarded = [
        "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
        "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1", "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
        "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "subject_cn",
    ]

    func login(_ server: String, _ scratch: Scratch, _ tpm: SoftwareTPM, _ args: [String]) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await Spawned.run(
            Binaries.happy,
            ["auth", "login", "--server", server, "--ca", GeneratedPKI.path("ca.pem"), "--revocation-check", "off"]
                + args,
            environment: [
                "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path, "HAPPY_HOME_DIR": scratch.home,
                "TPM2OPENSSL_TCTI": tpm.tcti,
            ], in: scratch.path)
    }

    func identities(_ server: LocalServer) async throws -> String {
        try await TestBrowser(identity: nil).request("GET", server.url + "/_test/mtls-identities").body
    }

    @Test func logsInThroughNginxWithAKeyInTheTPM() async throws {
        try #require(SoftwareTPM.isAvailable, "swtpm and tpm2-openssl must be installed (make test does)")
        let tpm = try await SoftwareTPM()
        let server = try await LocalServer(environment: Self.forwarded)
        defer { server.stopNow() }
        let nginx = try await NginxProxy(upstream: server.url)
        defer { nginx.stopNow() }
        let scratch = try Scratch()
        let r = try await login(nginx.url, scratch, tpm, ["--cert", tpm.certificatePath, "--key", tpm.keyPath])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("most likely identify you as tpm@example.com"), "stderr: \(r.stderr)")
        #expect(try await identities(server).contains("tpm user"))
        let text = try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8)
        #expect(!text.contains("TSS2") && !text.contains("PRIVATE KEY"))
        // The key file's path is recorded (never its contents), and status shows it.
        let stored = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let certificate = stored?["certificate"] as? [String: Any]
        #expect(certificate?["tpmKey"] as? String == tpm.keyPath, "\(text)")
        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status"], environment: ["HAPPY_HOME_DIR": scratch.home, "HOME": scratch.path],
            in: scratch.path)
        #expect(status.stdout.contains("TPM key: \(tpm.keyPath)"), "\(status.stdout)")
    }

    /// The certificate and the TSS2 key in one PEM file (`--cert` alone), in direct mode.
    @Test func aCombinedPEMWorksToo() async throws {
        try #require(SoftwareTPM.isAvailable, "swtpm and tpm2-openssl must be installed (make test does)")
        let tpm = try await SoftwareTPM()
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let combined = scratch.path + "/combined.pem"
        try
            (String(contentsOfFile: tpm.certificatePath, encoding: .utf8)
            + String(contentsOfFile: tpm.keyPath, encoding: .utf8))
            .write(toFile: combined, atomically: true, encoding: .utf8)
        let r = try await login(server.url, scratch, tpm, ["--cert", combined])
        #expect(r.status == 0, "stderr: \(r.stderr)")
    }

    @Test func aTPMThatIsGoneIs77WithOneLineAndNothingSent() async throws {
        try #require(SoftwareTPM.isAvailable, "swtpm and tpm2-openssl must be installed (make test does)")
        let tpm = try await SoftwareTPM()
        tpm.stop()
        let server = try await LocalServer(environment: Self.forwarded)
        defer { server.stopNow() }
        let nginx = try await NginxProxy(upstream: server.url)
        defer { nginx.stopNow() }
        let scratch = try Scratch()
        let r = try await login(nginx.url, scratch, tpm, ["--cert", tpm.certificatePath, "--key", tpm.keyPath])
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("TPM") && r.stderr.contains(tpm.tcti), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
        #expect(try await !identities(server).contains("tpm user"))
    }

    /// A key another TPM made: this TPM refuses to load it (one line, 77).
    @Test func aKeyFromAnotherTPMIsRefused() async throws {
        try #require(SoftwareTPM.isAvailable, "swtpm and tpm2-openssl must be installed (make test does)")
        let mine = try await SoftwareTPM()
        let other = try await SoftwareTPM()
        let scratch = try Scratch()
        let r = try await login(
            "https://127.0.0.1:9", scratch, other, ["--cert", mine.certificatePath, "--key", mine.keyPath])
        #expect(r.status == 77 && r.stderr.contains("TPM"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }
}
