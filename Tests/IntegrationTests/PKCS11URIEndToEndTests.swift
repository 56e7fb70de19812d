import Foundation
import HappyKit
import Testing

/// The `pkcs11:` URI rules of issue 18 (item 4) with the real binary: any `pin-*` attribute anywhere (a pin-source
/// naming a FIFO must not hang the login or override the PIN we were given), a repeated attribute, and the normalised
/// URI that lands in access.key.
@Suite("pkcs11: URI rules end to end", .serialized)
struct PKCS11URIEndToEndTests {
    static let nowhere = "https://127.0.0.1:9"

    @Test(arguments: [
        ("pkcs11:token=happy-test;object=device;pin-source=FIFO", "pin-source"),
        ("pkcs11:token=happy-test;object=device?pin-source=FIFO", "pin-source"),
        ("pkcs11:token=happy-test;object=device;PIN-Source=FIFO", "pin-source"),
        ("pkcs11:token=happy-test;object=device;pin%2dsource=FIFO", "pin-source"),
        ("pkcs11:token=happy-test;object=device;%50IN-VALUE=1234", "pin-value"),
        ("pkcs11:token=a;object=device;token=happy-test", "more than once"),
        ("pkcs11:token=happy-test;object=a;Object=b", "more than once"),
    ])
    func refusedWith64BeforeAnythingIsOpened(uri: String, says: String) async throws {
        let scratch = try Scratch()
        let fifo = scratch.path + "/pin-fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        let r = try await Spawned.run(
            Binaries.happy,
            ["auth", "login", "--server", Self.nowhere, "--cert", uri.replacingOccurrences(of: "FIFO", with: fifo)],
            environment: [
                "PATH": "/usr/bin:/bin", "HOME": scratch.path, "HAPPY_HOME_DIR": scratch.home,
                "HAPPY_CERT_PASSWORD": "1234",
            ], in: scratch.path, seconds: 60)
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(says), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("1234"))
        // A FIFO opened for the PIN would block forever; the bound is loose for a loaded machine.
        #expect(Date().timeIntervalSince(started) < 45)
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    /// A URI spelled with upper-case names and needless escapes is stored (and shown) in its normalised form.
    @Test func theNormalisedURIIsWhatIsStored() async throws {
        try #require(SoftHSMToken.isAvailable, "softhsm2, opensc and openssl must be installed (make test does)")
        let token = try await SoftHSMToken()
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await TokenLoginEndToEndTests().login(
            server.url, scratch, token,
            ["--cert", "PKCS11:Token=happy%2Dtest;OBJECT=dev%69ce", "--pkcs11-module", SoftHSMToken.module])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try JSONParser.parse(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8))
        #expect(json["certificate"]?["uri"]?.stringValue == "pkcs11:token=happy-test;object=device")
    }
}
