import Foundation

/// A fresh SoftHSM2 token in a temporary `SOFTHSM2_CONF`, for one test: label `happy-test`, user PIN `1234`. The key
/// pair is generated *on the token* by `pkcs11-tool` (so it is sensitive and never extractable), its public key is
/// read off the token, the test CA issues a certificate for it (`openssl x509 -new -force_pubkey`, SAN e-mail
/// `token@example.com`; no OpenSSL engine anywhere), and the certificate is stored on the token under the key's label
/// and id. Every tool is real; a missing one fails.
final class SoftHSMToken: @unchecked Sendable {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let pin = "1234"
    let scratch: Scratch
    let label = "happy-test"
    var conf: String { scratch.path + "/softhsm2.conf" }
    /// `SOFTHSM2_CONF`, for the processes that open the token.
    var environment: [String: String] { ["SOFTHSM2_CONF": conf] }
    /// What `pkcs11-tool --list-objects` said after setup (attributes of the key, for the test to check).
    private(set) var objects = ""

    /// Stores the test CA's certificate on the token too (label `ca`), as the issuer "from the token".
    func storeCA() async throws {
        try await run([
            "/usr/bin/openssl", "x509", "-in", GeneratedPKI.path("ca.pem"), "-outform", "DER", "-out",
            scratch.path + "/ca.der",
        ])
        try await run([
            "/usr/bin/pkcs11-tool", "--module", Self.module, "--token-label", label, "--login", "--pin",
            Self.pin, "--write-object", scratch.path + "/ca.der", "--type", "cert", "--label", "ca",
            "--id", "02",
        ])
    }

    /// Removes the private key object, leaving the certificate (a token whose key is gone).
    func deletePrivateKey(object: String = "device") async throws {
        try await run([
            "/usr/bin/pkcs11-tool", "--module", Self.module, "--token-label", label, "--login", "--pin",
            Self.pin, "--delete-object", "--type", "privkey", "--label", object,
        ])
    }

    /// The certificate stored on the token, DER.
    var certificatePath: String { scratch.path + "/leaf.der" }

    /// The certificate's serial number in upper-case hex, as an `openssl ca` index writes it.
    func serial() async throws -> String {
        let out = try await run([
            "/usr/bin/openssl", "x509", "-inform", "DER", "-in", certificatePath, "-noout",
            "-serial",
        ])
        return String(out.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("serial=".count)).uppercased()
    }

    static var isAvailable: Bool {
        [module, "/usr/bin/softhsm2-util", "/usr/bin/pkcs11-tool", "/usr/bin/openssl"].allSatisfy {
            FileManager.default.fileExists(atPath: $0)
        }
    }

    init(
        keyType: String = "EC:prime256v1", object: String = "device", email: String = "token@example.com",
        withAIA: Bool = false
    ) async throws {
        scratch = try Scratch()
        let dir = scratch.path
        try FileManager.default.createDirectory(atPath: dir + "/tokens", withIntermediateDirectories: true)
        try "directories.tokendir = \(dir)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let ca = GeneratedPKI.path
        var ext =
            "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
            + "extendedKeyUsage = clientAuth\nsubjectAltName = email:\(email)\n"
        if withAIA { ext += "authorityInfoAccess = OCSP;URI:\(OCSPResponder.url)\n" }
        try ext.write(toFile: dir + "/leaf.ext", atomically: true, encoding: .utf8)
        let tool = [
            "/usr/bin/pkcs11-tool", "--module", Self.module, "--token-label", label, "--login", "--pin", Self.pin,
        ]
        try await run([
            "/usr/bin/softhsm2-util", "--init-token", "--free", "--label", label, "--pin", Self.pin,
            "--so-pin", "5678",
        ])
        try await run(tool + ["--keypairgen", "--key-type", keyType, "--label", object, "--id", "01"])
        try await run(tool + ["--read-object", "--type", "pubkey", "--id", "01", "-o", dir + "/public.der"])
        try await run([
            "/usr/bin/openssl", "pkey", "-pubin", "-inform", "DER", "-in", dir + "/public.der", "-out",
            dir + "/public.pem",
        ])
        try await run([
            "/usr/bin/openssl", "x509", "-new", "-force_pubkey", dir + "/public.pem", "-subj",
            "/O=Happy Test/CN=Token User", "-CA", ca("ca.pem"), "-CAkey", ca("ca.key"), "-days", "30", "-sha256",
            "-extfile", dir + "/leaf.ext", "-outform", "DER", "-out", dir + "/leaf.der",
        ])
        try await run(tool + ["--write-object", dir + "/leaf.der", "--type", "cert", "--label", object, "--id", "01"])
        objects = try await run(tool + ["--list-objects"])
    }

    @discardableResult
    func run(_ argv: [String], extra: [String: String] = [:]) async throws -> String {
        let env = ["PATH": "/usr/bin:/bin", "SOFTHSM2_CONF": conf].merging(extra) { $1 }
        let r = try await Spawned.run(argv[0], Array(argv.dropFirst()), environment: env, in: scratch.path)
        guard r.status == 0 else {
            throw SpawnError.exited(stdout: r.stdout, stderr: "\(argv.joined(separator: " ")): \(r.stderr)")
        }
        return r.stdout
    }
}
