import Foundation
import Testing

@testable import HappyKit

/// `access.key` in the formats the TypeScript CLI writes (`JSON.stringify(…, null, 2)`, no final newline; fixtures
/// below were printed by node), plus our keyless format. Parsing and re-serializing is byte-identical.
@Suite struct AccessKeyTests {
    let sandbox = Sandbox()

    static let legacyFixture = """
        {
          "secret": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=",
          "token": "tok.legacy-123"
        }
        """
    static let dataKeyFixture = """
        {
          "encryption": {
            "publicKey": "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t8=",
            "machineKey": "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8="
          },
          "token": "tok.datakey-456"
        }
        """
    static let keylessFixture = """
        {
          "token": "tok.keyless-789",
          "certificate": {
            "identity": "alice@example.com",
            "source": "san_email",
            "issuer": "CN=Example CA",
            "fingerprint": "AB:CD",
            "notAfter": "2027-01-01T00:00:00Z"
          }
        }
        """

    @Test func parsesAndReserializesTheLegacyFormat() throws {
        let key = try AccessKey.parse(Array(Self.legacyFixture.utf8), path: "access.key")
        guard case .legacy(let secret, let token) = key else {
            Issue.record("expected legacy, got \(key.kindName)"); return
        }
        #expect(bytes(of: secret) == counting(from: 0xA0, count: 32))
        #expect(token == "tok.legacy-123")
        #expect(String(decoding: bytes(of: try key.serialized()), as: UTF8.self) == Self.legacyFixture)
    }

    @Test func parsesAndReserializesTheDataKeyFormat() throws {
        let key = try AccessKey.parse(Array(Self.dataKeyFixture.utf8), path: "access.key")
        guard case .dataKey(let publicKey, let machineKey, let token) = key else {
            Issue.record("expected dataKey, got \(key.kindName)")
            return
        }
        #expect(publicKey == counting(from: 0xC0, count: 32))
        #expect(bytes(of: machineKey) == counting(from: 0xE0, count: 32))
        #expect(token == "tok.datakey-456")
        #expect(String(decoding: bytes(of: try key.serialized()), as: UTF8.self) == Self.dataKeyFixture)
    }

    @Test func parsesAndReserializesTheKeylessFormat() throws {
        let key = try AccessKey.parse(Array(Self.keylessFixture.utf8), path: "access.key")
        guard case .keyless(let token, let metadata) = key else { Issue.record("expected keyless"); return }
        #expect(token == "tok.keyless-789")
        #expect(
            metadata
                == CertificateLoginMetadata(
                    identity: "alice@example.com", source: "san_email",
                    issuer: "CN=Example CA", fingerprint: "AB:CD",
                    notAfter: "2027-01-01T00:00:00Z"))
        #expect(String(decoding: bytes(of: try key.serialized()), as: UTF8.self) == Self.keylessFixture)
        #expect(
            bytes(of: try AccessKey.parse(Array(#"{"token":"t"}"#.utf8), path: "p").serialized())
                == Array("{\n  \"token\": \"t\"\n}".utf8))
    }

    @Test func readsCompactAndReorderedFilesToo() throws {
        let compact = #"{"token":"tok.legacy-123","secret":"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="}"# + "\n"
        let key = try AccessKey.parse(Array(compact.utf8), path: "access.key")
        #expect(key.kindName == "legacy")
        #expect(String(decoding: bytes(of: try key.serialized()), as: UTF8.self) == Self.legacyFixture)
    }

    @Test func storesWithMode0600InAHomeOf0700() throws {
        let key = try AccessKey.parse(Array(Self.dataKeyFixture.utf8), path: "x")
        try key.store(in: sandbox.home)
        #expect(sandbox.read(sandbox.home.accessKeyPath) == Self.dataKeyFixture)
        #expect(sandbox.mode(of: sandbox.home.accessKeyPath) == 0o600)
        #expect(sandbox.mode(of: sandbox.home.path) == 0o700)
        #expect(sandbox.listing(sandbox.home.path) == ["access.key"])
        let loaded = try #require(try AccessKey.load(from: sandbox.home))
        #expect(loaded.token == "tok.datakey-456")
    }

    @Test func loadsNothingWhenTheFileIsAbsent() throws {
        #expect(try AccessKey.load(from: sandbox.home) == nil)
        #expect(!sandbox.exists(sandbox.home.path))
    }

    @Test(arguments: [
        ("", "not valid JSON"),
        ("{\"token\": \"t\"", "not valid JSON"),
        ("[\"token\"]", "not a JSON object"),
        ("{}", "has no token"),
        ("{\"token\": \"\"}", "has no token"),
        ("{\"token\": 5}", "has no token"),
        ("{\"secret\": \"oKGi\", \"token\": \"t\"}", "secret that is not 32 bytes"),
        ("{\"secret\": \"not base64!\", \"token\": \"t\"}", "secret that is not 32 bytes"),
        (
            "{\"encryption\": {\"machineKey\": \"4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=\"}, \"token\": \"t\"}",
            "encryption.publicKey"
        ),
        (
            "{\"encryption\": {\"publicKey\": \"wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t8=\"}, \"token\": \"t\"}",
            "encryption.machineKey"
        ),
    ])
    func reportsACorruptFileNamingForce(text: String, expected: String) throws {
        try sandbox.write(text, to: sandbox.home.accessKeyPath)
        let error = #expect(throws: HappyError.self) { try AccessKey.load(from: sandbox.home) }
        guard case .fileProblem(let path, let reason)? = error else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(path == sandbox.home.accessKeyPath)
        #expect(reason.contains(expected), "\(reason)")
        #expect(reason.contains("happy auth login --force"))
        #expect(error?.exitStatus == .failure)
    }

    @Test func neverEchoesFileContentsInItsErrors() throws {
        let text = #"{"secret": "SECRETSECRETSECRET", "token": "tok-SECRET-1"}"#
        let error = #expect(throws: HappyError.self) { try AccessKey.parse(Array(text.utf8), path: "access.key") }
        #expect(error?.userMessage.contains("SECRET") == false)
    }

    @Test func kindNamesAndTokens() throws {
        let legacy = try AccessKey.parse(Array(Self.legacyFixture.utf8), path: "p")
        let dataKey = try AccessKey.parse(Array(Self.dataKeyFixture.utf8), path: "p")
        let keyless = try AccessKey.parse(Array(Self.keylessFixture.utf8), path: "p")
        #expect([legacy, dataKey, keyless].map(\.kindName) == ["legacy", "dataKey", "keyless"])
        #expect([legacy, dataKey, keyless].map(\.token) == ["tok.legacy-123", "tok.datakey-456", "tok.keyless-789"])
    }
}
