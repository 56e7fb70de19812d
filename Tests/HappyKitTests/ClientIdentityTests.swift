import Foundation
import HappyKit
import Testing

/// `ClientIdentity.load` and `checkValidity` against the PKI that scripts/make-test-pki.sh makes with the `openssl`
/// CLI; expected values come from that CLI too, so the two sides never share code.
@Suite struct ClientIdentityTests {
    // MARK: formats

    @Test func loadsPEMCertificateWithSeparateKey() throws {
        var asked = 0
        let identity = try ClientIdentity.load(certificatePath: try pki("alice.pem"), keyPath: try pki("alice.key")) {
            asked += 1
            return nil
        }
        #expect(asked == 0)
        #expect(identity.certificateChainDER == [try certificateDER("alice.pem")])
        #expect(bytes(identity.privateKeyDER) == (try pkcs8DER("alice.key")))
        #expect(identity.warnings.isEmpty)
    }

    @Test func loadsCombinedPEM() throws {
        let identity = try load("alice-combined.pem")
        #expect(identity.certificateChainDER == [try certificateDER("alice.pem")])
        #expect(bytes(identity.privateKeyDER) == (try pkcs8DER("alice.key")))
    }

    @Test func loadsECKey() throws {
        let identity = try load("upn.pem", key: "upn.key")
        #expect(bytes(identity.privateKeyDER) == (try pkcs8DER("upn.key")))
    }

    @Test func putsLeafFirstInChain() throws {
        let expected = [try certificateDER("alice.pem"), try certificateDER("ca.pem")]
        #expect(try load("alice-chain.pem", key: "alice.key").certificateChainDER == expected)
        try withTemporaryDirectory { directory in  // CA first in the file: the leaf is the one matching the key
            let reversed = directory + "/reversed.pem"
            var contents = try Data(contentsOf: URL(fileURLWithPath: try pki("ca.pem")))
            contents.append(try Data(contentsOf: URL(fileURLWithPath: try pki("alice-combined.pem"))))
            try contents.write(to: URL(fileURLWithPath: reversed))
            let identity = try ClientIdentity.load(certificatePath: reversed, keyPath: nil) { nil }
            #expect(identity.certificateChainDER == expected)
        }
    }

    @Test func loadsDERCertificateWithPEMKey() throws {
        try withTemporaryDirectory { directory in
            let der = directory + "/alice.der"
            try Data(try certificateDER("alice.pem")).write(to: URL(fileURLWithPath: der))
            let identity = try ClientIdentity.load(certificatePath: der, keyPath: try pki("alice.key")) { nil }
            #expect(identity.info.subjectCN == "Alice Example")
        }
    }

    @Test(arguments: ["alice-encrypted.key", "alice-encrypted-traditional.key"])
    func decryptsEncryptedKey(file: String) throws {
        var asked = 0
        let identity = try ClientIdentity.load(certificatePath: try pki("alice.pem"), keyPath: try pki(file)) {
            asked += 1
            return try secret("correct horse")
        }
        #expect(asked == 1)
        #expect(bytes(identity.privateKeyDER) == (try pkcs8DER("alice.key")))
    }

    @Test(arguments: ["alice-encrypted.key", "alice-encrypted-traditional.key"])
    func refusesEncryptedKeyWithWrongPassword(file: String) throws {
        let message = try #require(refusal { try load("alice.pem", key: file, password: "wrong horse") })
        #expect(message.hasPrefix("wrong password for "))
        #expect(message.contains(file))
    }

    @Test func namesPasswordSourcesWhenNoneIsAvailable() throws {
        for (certificate, key) in [("alice.pem", "alice-encrypted.key"), ("alice.p12", nil)] {
            let message = try #require(refusal { try load(certificate, key: key) })
            #expect(message.contains("--cert-password-file"))
            #expect(message.contains("HAPPY_CERT_PASSWORD"))
        }
    }

    @Test func loadsPKCS12() throws {
        var asked = 0
        let identity = try ClientIdentity.load(certificatePath: try pki("alice.p12"), keyPath: nil) {
            asked += 1
            return try secret("correct horse")
        }
        #expect(asked == 1)
        #expect(identity.certificateChainDER == [try certificateDER("alice.pem"), try certificateDER("ca.pem")])
        #expect(bytes(identity.privateKeyDER) == (try pkcs8DER("alice.key")))
        #expect(identity.warnings.isEmpty)
    }

    @Test func refusesPKCS12WithWrongPassword() throws {
        let message = try #require(refusal { try load("alice.p12", password: "Correct horse") })
        #expect(message.hasPrefix("wrong password for "))
    }

    @Test func refusesKeyFileNextToPKCS12() throws {
        let message = try #require(refusal { try load("alice.p12", key: "alice.key", password: "correct horse") })
        #expect(message.contains("drop --key"))
    }

    /// make-test-pki.sh makes alice-legacy.p12 only when OpenSSL has its legacy provider; Debian 12's libssl3 has it,
    /// so a missing file is a broken set-up, not a reason to skip.
    @Test func loadsLegacyPKCS12() throws {
        try #require(
            FileManager.default.fileExists(atPath: TestPKI.path("alice-legacy.p12")),
            "make-test-pki.sh made no alice-legacy.p12: OpenSSL lacks its legacy provider (libssl3's ossl-modules/legacy.so)"
        )
        #expect(refusal { try load("alice-legacy.p12", password: "wrong") }?.hasPrefix("wrong password") == true)
        let identity = try load("alice-legacy.p12", password: "correct horse")
        #expect(identity.certificateChainDER == [try certificateDER("alice.pem"), try certificateDER("ca.pem")])
        #expect(bytes(identity.privateKeyDER) == (try pkcs8DER("alice.key")))
    }

    // MARK: failures

    @Test func refusesUnknownFormat() throws {
        let message = try #require(refusal { try load("garbage.pem", key: "alice.key") })
        #expect(message.contains("unknown format"))
    }

    @Test func refusesDamagedCertificateBlock() throws {
        try withTemporaryDirectory { directory in
            let damaged = directory + "/damaged.pem"
            try "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
                .write(toFile: damaged, atomically: true, encoding: .utf8)
            let message = try #require(
                refusal { try ClientIdentity.load(certificatePath: damaged, keyPath: nil) { nil } })
            #expect(message.contains("cannot be read"))
        }
    }

    @Test func refusesMissingFile() throws {
        let missing = TestPKI.path("no-such-file.pem")
        let message = try #require(refusal { try ClientIdentity.load(certificatePath: missing, keyPath: nil) { nil } })
        #expect(message == "cannot read the certificate file \(missing): no such file")
        let missingKey = try #require(refusal { try load("alice.pem", key: "no-such.key") })
        #expect(missingKey.contains("no such file"))
    }

    @Test func refusesMissingKey() throws {
        let message = try #require(refusal { try load("alice.pem") })
        #expect(message.contains("--key"))
    }

    @Test func refusesMismatchedKey() throws {
        let message = try #require(refusal { try load("mismatch.pem", key: "mismatch.key") })
        #expect(
            message == "the private key in \(try pki("mismatch.key")) does not belong to the certificate in "
                + (try pki("mismatch.pem")))
    }

    @Test func refusalsExitWith77() throws {
        do {
            _ = try load("garbage.pem")
            Issue.record("garbage loaded")
        } catch let error as HappyError {
            #expect(error.exitStatus == .refused)
            #expect(error.userMessage.hasPrefix("happy: /"))
        }
    }

    // MARK: validity and warnings

    @Test func refusesExpiredCertificateNamingBothDates() throws {
        let identity = try load("expired.pem", key: "expired.key")  // loading does not judge the dates
        let message = try #require(refusal { try identity.checkValidity(now: Self.fixedNow) })
        #expect(message.contains("expired"))
        #expect(message.contains("2020-01-01T00:00:00Z") && message.contains("2021-01-01T00:00:00Z"))
    }

    @Test func refusesNotYetValidCertificateNamingBothDates() throws {
        let identity = try load("not-yet-valid.pem", key: "not-yet-valid.key")
        let message = try #require(refusal { try identity.checkValidity(now: Self.fixedNow) })
        #expect(message.contains("not valid yet"))
        #expect(message.contains("2090-01-01T00:00:00Z") && message.contains("2091-01-01T00:00:00Z"))
    }

    @Test func warnsWhenExpiringSoon() throws {
        let soon = try load("soon.pem", key: "soon.key")
        let warnings = try soon.checkValidity(now: soon.info.notAfter.addingTimeInterval(-3 * 86_400))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("expires in 3 days") == true)
        let alice = try load("alice.pem", key: "alice.key")
        #expect(try alice.checkValidity(now: alice.info.notBefore.addingTimeInterval(86_400)).isEmpty)
    }

    @Test func warnsAboutKeyReadableByOthers() throws {
        try withTemporaryDirectory { directory in
            for (source, name) in [("alice.key", "open.key"), ("alice-combined.pem", "open-combined.pem")] {
                let copy = directory + "/" + name
                try FileManager.default.copyItem(atPath: try pki(source), toPath: copy)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: copy)
                let identity =
                    name.hasSuffix(".key")
                    ? try ClientIdentity.load(certificatePath: try pki("alice.pem"), keyPath: copy) { nil }
                    : try ClientIdentity.load(certificatePath: copy, keyPath: nil) { nil }
                #expect(
                    identity.warnings == [
                        "the private key in \(copy) is accessible to other users (mode 644); "
                            + "run `chmod 600 \(copy)`"
                    ])
            }
        }
    }

    // MARK: normalized info

    @Test(arguments: ["alice", "upn", "server", "other-ca-client", "expired", "uri"])
    func infoMatchesOpenSSL(name: String) throws {
        let info = try load(name + ".pem", key: name + ".key").info
        let fields = try openSSLFields(name + ".pem")
        #expect(info.subjectDN == fields["subject"])
        #expect(info.issuerDN == fields["issuer"])
        #expect(info.serialNumber == fields["serial"])
        #expect(info.fingerprint256 == fields["sha256 Fingerprint"]?.replacingOccurrences(of: ":", with: ""))
        #expect(info.fingerprint256.count == 64)
        #expect(info.notBefore == (try isoDate(fields["notBefore"])))
        #expect(info.notAfter == (try isoDate(fields["notAfter"])))
    }

    @Test func normalizesNamesAndAlternativeNames() throws {
        let alice = try load("alice.pem", key: "alice.key").info
        #expect(alice.subjectDN == "CN=Alice Example,O=Happy Test")
        #expect(alice.subjectCN == "Alice Example")
        #expect(alice.issuerDN == "CN=Happy Test Root CA,O=Happy Test")
        #expect(alice.issuerCN == "Happy Test Root CA")
        #expect(alice.subjectAltNames == ["email:Alice@Example.COM"])
        #expect(try load("upn.pem", key: "upn.key").info.subjectAltNames == ["UPN:Carol@Example.com"])
        #expect(try load("server.pem", key: "server.key").info.subjectAltNames == ["IP:127.0.0.1", "DNS:localhost"])
        #expect(
            try load("uri.pem", key: "uri.key").info.subjectAltNames
                == ["URI:spiffe://happy.test/frank", "DNS:frank.happy.test", "IP:::1"])
        #expect(try load("cn-only.pem", key: "cn-only.key").info.subjectAltNames.isEmpty)
        let expired = try load("expired.pem", key: "expired.key").info
        #expect(expired.notBefore == Date(timeIntervalSince1970: 1_577_836_800))  // 2020-01-01T00:00:00Z
        #expect(expired.notAfter == Date(timeIntervalSince1970: 1_609_459_200))  // 2021-01-01T00:00:00Z
        #expect(try load("other-ca-client.pem", key: "other-ca-client.key").info.issuerCN == "Other Root CA")
    }

    @Test func derivesLikelyIdentity() throws {
        func identity(_ name: String) throws -> (String, String) {
            let likely = try load(name + ".pem", key: name + ".key").info.likelyIdentity
            return (likely.value, likely.source)
        }
        #expect(try identity("alice") == ("alice@example.com", "san_email"))
        #expect(try identity("bob-other-domain") == ("bob@elsewhere.org", "san_email"))
        #expect(try identity("upn") == ("carol@example.com", "san_upn"))
        #expect(try identity("cn-only") == ("dave-laptop", "subject_cn"))
        #expect(try identity("uri") == ("frank-service", "subject_cn"))
        var anonymous = try load("cn-only.pem", key: "cn-only.key").info
        anonymous.subjectCN = nil
        #expect(anonymous.likelyIdentity == (anonymous.fingerprint256, "fingerprint"))
    }

    @Test func infoRoundTripsThroughJSON() throws {
        let info = try load("upn.pem", key: "upn.key").info
        let decoded = try JSONDecoder().decode(ClientCertificateInfo.self, from: try JSONEncoder().encode(info))
        #expect(decoded == info)
    }

    // MARK: helpers

    private static let fixedNow = Date(timeIntervalSince1970: 1_750_000_000)  // 2025-06-15

    private func pki(_ name: String) throws -> String {
        _ = try TestPKI.directory.get()
        return TestPKI.path(name)
    }

    private func load(_ certificate: String, key: String? = nil, password: String? = nil) throws -> ClientIdentity {
        try ClientIdentity.load(certificatePath: try pki(certificate), keyPath: try key.map { try pki($0) }) {
            try password.map { try secret($0) }
        }
    }

    /// The message of a `HappyError.refused`, or nil when `body` succeeds; any other error fails the test.
    private func refusal(_ body: () throws -> some Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch HappyError.refused(let message) {
            return message
        } catch {
            Issue.record("expected HappyError.refused, got \(error)")
            return "\(error)"
        }
    }

    private func secret(_ text: String) throws -> SecretBytes {
        var bytes = Array(text.utf8)
        return try SecretBytes(consuming: &bytes)
    }

    private func bytes(_ secret: SecretBytes?) -> [UInt8]? { secret?.withUnsafeBytes { Array($0) } }

    private func certificateDER(_ name: String) throws -> [UInt8] {
        try TestPKI.run(["openssl", "x509", "-in", try pki(name), "-outform", "DER"])
    }

    private func pkcs8DER(_ name: String) throws -> [UInt8] {
        try TestPKI.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", try pki(name), "-outform", "DER"])
    }

    /// `openssl x509` fields as "name=value" pairs.
    private func openSSLFields(_ name: String) throws -> [String: String] {
        let output = try TestPKI.run([
            "openssl", "x509", "-in", try pki(name), "-noout", "-subject", "-issuer", "-serial", "-fingerprint",
            "-sha256", "-startdate", "-enddate", "-nameopt", "RFC2253", "-dateopt", "iso_8601",
        ])
        var fields: [String: String] = [:]
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }

    /// "2026-11-23 10:54:30Z" as printed by `-dateopt iso_8601`.
    private func isoDate(_ text: String?) throws -> Date {
        let text = try #require(text).replacingOccurrences(of: " ", with: "T")
        return try Date(text, strategy: .iso8601)
    }

    private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("happy-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory.path)
    }
}

/// The test PKI, made once per test process by scripts/make-test-pki.sh and removed when the process exits.
private enum TestPKI {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let root = FileManager.default.temporaryDirectory
        .appendingPathComponent("happy-test-pki-\(UUID().uuidString)").path

    static let directory: Result<String, Failure> = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = repository.appendingPathComponent("scripts/make-test-pki.sh").path
        do {
            let output = try run(["bash", script, root])
            guard output.isEmpty else { return .failure(Failure(description: "make-test-pki.sh printed output")) }
        } catch {
            return .failure(Failure(description: "\(error)"))
        }
        atexit { try? FileManager.default.removeItem(atPath: TestPKI.root) }
        return .success(root)
    }()

    static func path(_ name: String) -> String {
        _ = directory  // make sure the files exist
        return root + "/" + name
    }

    /// Runs a command through /usr/bin/env and returns its stdout; a non-zero exit throws with its stderr.
    @discardableResult
    static func run(_ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let command = arguments.joined(separator: " ")
            throw Failure(description: "\(command): \(String(decoding: problems, as: UTF8.self))")
        }
        return [UInt8](data)
    }
}
