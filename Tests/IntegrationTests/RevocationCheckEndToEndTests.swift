import Foundation
import HappyKit
import Testing

/// The OCSP preflight of `happy auth login --cert` (PROTOCOL §6) with the real binary, a real `openssl ocsp`
/// responder answering from the test CA's database, and the local server; plus the server side's own OCSP check of
/// client certificates in direct mode (Harper's behaviour, seed 002), so revocation shows from both sides.
@Suite("happy auth login --revocation-check end to end", .serialized)
struct RevocationCheckEndToEndTests {
    /// Port 9 on loopback: nothing listens, so a login that reached the Happy server would exit 69, not 77.
    static let nowhere = "https://127.0.0.1:9"

    /// A clean environment: no proxy variables, HAPPY_CA_FILE, LANG or NO_COLOR from the runner.
    static func environment(_ scratch: Scratch, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path, "HAPPY_HOME_DIR": scratch.home,
            "HAPPY_CERT_PASSWORD": "correct horse",
        ].merging(extra) { $1 }
    }

    func login(
        _ server: String, _ scratch: Scratch, _ name: String, chain: Bool = true, _ args: [String] = [],
        env: [String: String] = [:]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let cert = GeneratedPKI.path(chain ? "\(name)-chain.pem" : "\(name).pem")
        return try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", server, "--ca", GeneratedPKI.path("ca.pem"), "--cert", cert, "--key",
                GeneratedPKI.path("\(name).key"),
            ] + args,
            environment: Self.environment(scratch, env), in: scratch.path)
    }

    func nothingWritten(_ scratch: Scratch) -> Bool { !FileManager.default.fileExists(atPath: scratch.home) }

    @Test func goodCertificateLogsIn() async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await login(server.url, scratch, "ocsp-good", ["--revocation-check", "strict", "--debug"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("Revocation check (OCSP, \(OCSPResponder.url)): not revoked."))
        // The OCSP request went through the transport, so --debug shows it, before the login request.
        let lines = r.stderr.split(separator: "\n")
        let ocsp = try #require(lines.firstIndex { $0.hasPrefix("debug: POST / -> 200") })
        let mtls = try #require(lines.firstIndex { $0.hasPrefix("debug: POST /v1/auth/mtls -> 200") })
        #expect(ocsp < mtls)
    }

    @Test(arguments: ["soft", "strict", nil] as [String?])
    func revokedCertificateStopsWith77BeforeTheServer(mode: String?) async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let scratch = try Scratch()
        let r = try await login(Self.nowhere, scratch, "ocsp-revoked", mode.map { ["--revocation-check", $0] } ?? [])
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("revoked on 20") && r.stderr.contains("keyCompromise"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("nothing was sent to the Happy server"))
        #expect(nothingWritten(scratch))
    }

    /// PKCS#12: the issuer comes from the bag.
    @Test func revokedPKCS12IsFoundRevokedToo() async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy,
            ["auth", "login", "--server", Self.nowhere, "--cert", GeneratedPKI.path("ocsp-revoked.p12")],
            environment: Self.environment(scratch), in: scratch.path)
        #expect(r.status == 77 && r.stderr.contains("keyCompromise"), "stderr: \(r.stderr)")
        #expect(nothingWritten(scratch))
    }

    /// Inconclusive answers: soft warns and goes on to the server; strict stops with 77 before it.
    @Test(arguments: [
        ("ocsp-unknown", true, "does not know this certificate"),
        ("ocsp-unreachable", true, "could not be asked"),
        ("alice", false, "names no OCSP responder"),
    ])
    func inconclusiveIsAWarningWhenSoftAndRefusedWhenStrict(name: String, chain: Bool, says: String) async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let server = try await LocalServer(environment: CertificateLoginEndToEndTests.directEnvironment())
        defer { server.stopNow() }
        let soft = try Scratch()
        let going = try await login(server.url, soft, name, chain: chain)
        #expect(going.status == 0, "stderr: \(going.stderr)")
        #expect(going.stderr.contains("could not check revocation") && going.stderr.contains(says), "\(going.stderr)")

        let strict = try Scratch()
        let stopped = try await login(Self.nowhere, strict, name, chain: chain, ["--revocation-check", "strict"])
        #expect(stopped.status == 77, "stderr: \(stopped.stderr)")
        #expect(stopped.stderr.contains(says) && stopped.stderr.contains("strict"), "stderr: \(stopped.stderr)")
        #expect(nothingWritten(strict))
    }

    /// Answers signed by anyone but the issuer (here another CA) are not believed: soft warns, strict stops. Without
    /// the signature check the rogue's "revoked" would be taken at its word.
    @Test func answersNotSignedByTheIssuerAreNotBelieved() async throws {
        let responder = try await OCSPResponder(signer: "other-ca")
        defer { responder.stop() }
        let soft = try Scratch()
        let going = try await login(Self.nowhere, soft, "ocsp-revoked")
        #expect(going.status == 69, "went on to the (absent) server: \(going.stderr)")
        #expect(going.stderr.contains("signature does not verify against the issuer"), "\(going.stderr)")
        #expect(!going.stderr.contains("keyCompromise"))
        let strict = try Scratch()
        let stopped = try await login(Self.nowhere, strict, "ocsp-good", ["--revocation-check", "strict"])
        #expect(stopped.status == 77 && stopped.stderr.contains("signature does not verify"), "\(stopped.stderr)")
    }

    /// No issuer in the file and no --ca to find it in: nothing to verify an answer against.
    @Test func noIssuerAtHandIsInconclusive() async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let args = ["--cert", GeneratedPKI.path("ocsp-revoked.pem"), "--key", GeneratedPKI.path("ocsp-revoked.key")]
        let soft = try Scratch()
        let going = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", Self.nowhere] + args,
            environment: Self.environment(soft), in: soft.path)
        #expect(going.status == 69, "went on to the (absent) server: \(going.stderr)")
        #expect(going.stderr.contains("issuer's certificate is not at hand"), "\(going.stderr)")
        let strict = try Scratch()
        let stopped = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", Self.nowhere, "--revocation-check", "strict"] + args,
            environment: Self.environment(strict), in: strict.path)
        #expect(stopped.status == 77 && stopped.stderr.contains("not at hand"), "\(stopped.stderr)")
        // With --ca naming the CA, the issuer is found there and the revocation shows.
        let withCA = try Scratch()
        let revoked = try await login(Self.nowhere, withCA, "ocsp-revoked", chain: false)
        #expect(revoked.status == 77 && revoked.stderr.contains("keyCompromise"), "\(revoked.stderr)")
    }

    /// `off` asks nobody: the revoked certificate reaches the server (port 9 here, so 69).
    @Test func offSkipsTheCheck() async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let scratch = try Scratch()
        let r = try await login(Self.nowhere, scratch, "ocsp-revoked", ["--revocation-check", "off", "--debug"])
        #expect(r.status == 69, "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("debug: POST / "))
    }

    /// The server side (direct mode, Harper's check): with the client's preflight off, the server's own OCSP lookup
    /// refuses the revoked certificate and lets the good one in.
    @Test func theServerChecksTooWhenTheClientDoesNot() async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let server = try await LocalServer(
            environment: CertificateLoginEndToEndTests.directEnvironment(["HAPPY_TEST_SERVER_OCSP": "fail-open"]))
        defer { server.stopNow() }
        let revoked = try Scratch()
        let refused = try await login(server.url, revoked, "ocsp-revoked", ["--revocation-check", "off"])
        #expect(refused.status == 77 && refused.stderr.contains("certificate-revoked"), "stderr: \(refused.stderr)")
        #expect(nothingWritten(revoked))
        let good = try Scratch()
        #expect(try await login(server.url, good, "ocsp-good", ["--revocation-check", "off"]).status == 0)
        // fail-open: a certificate the responder does not know still gets in.
        let unknown = try Scratch()
        #expect(try await login(server.url, unknown, "ocsp-unknown", ["--revocation-check", "off"]).status == 0)
    }

    @Test func failClosedServerRefusesWhatItCannotCheck() async throws {
        let server = try await LocalServer(
            environment: CertificateLoginEndToEndTests.directEnvironment(["HAPPY_TEST_SERVER_OCSP": "fail-closed"]))
        defer { server.stopNow() }
        await ResponderSlot.shared.acquire()  // so no other test's responder is running
        defer { Task { await ResponderSlot.shared.release() } }
        let scratch = try Scratch()
        let r = try await login(server.url, scratch, "ocsp-good", ["--revocation-check", "off"])
        #expect(r.status == 77 && r.stderr.contains("not-eligible"), "stderr: \(r.stderr)")
    }

    @Test func theOCSPRequestGoesThroughTheProxy() async throws {
        let responder = try await OCSPResponder()
        defer { responder.stop() }
        let proxy = try await Tinyproxy()
        defer { proxy.stopNow() }
        let scratch = try Scratch()
        let r = try await login(Self.nowhere, scratch, "ocsp-revoked", env: ["http_proxy": proxy.url])
        #expect(r.status == 77, "stderr: \(r.stderr)")
        #expect(proxy.log.contains(String(GeneratedPKI.ocspPort)), "the proxy saw the OCSP request: \(proxy.log)")
    }

    @Test func revocationCheckNeedsCert() async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--revocation-check", "strict"], environment: Self.environment(scratch),
            in: scratch.path)
        #expect(r.status == 64 && r.stderr.contains("--revocation-check needs --cert"), "stderr: \(r.stderr)")
    }
}
