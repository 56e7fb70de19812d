import Foundation
import Testing

@testable import HappyKit

/// Ed25519 signing (RFC 8032 vectors), base64 strictness, and secret redaction.
@Suite struct CryptoPrimitivesTests {
    // RFC 8032 §7.1, TEST 1 and TEST 2.
    static let seed1 = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    static let public1 = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    static let signature1 = hex(
        """
        e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
        """)
    static let seed2 = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    static let public2 = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
    static let message2: [UInt8] = [0x72]
    static let signature2 = hex(
        """
        92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00
        """)

    @Test func signsRFC8032VectorOne() throws {
        let key = try SigningKeyPair(seed: try secret(Self.seed1))
        #expect(key.publicKey == Self.public1)
        #expect(key.sign([]) == Self.signature1)
        #expect(SigningKeyPair.verify(signature: Self.signature1, message: [], publicKey: Self.public1))
    }

    @Test func signsRFC8032VectorTwo() throws {
        let key = try SigningKeyPair(seed: try secret(Self.seed2))
        #expect(key.publicKey == Self.public2)
        #expect(key.sign(Self.message2) == Self.signature2)
        #expect(SigningKeyPair.verify(signature: Self.signature2, message: Self.message2, publicKey: Self.public2))
    }

    @Test func rejectsTamperedMessageSignatureOrKey() throws {
        let key = try SigningKeyPair(seed: try secret(Self.seed2))
        let message = Array("challenge".utf8)
        let signature = key.sign(message)
        #expect(SigningKeyPair.verify(signature: signature, message: message, publicKey: key.publicKey))
        #expect(
            !SigningKeyPair.verify(signature: signature, message: Array("challengf".utf8), publicKey: key.publicKey))
        var badSignature = signature
        badSignature[10] ^= 0x80
        #expect(!SigningKeyPair.verify(signature: badSignature, message: message, publicKey: key.publicKey))
        #expect(!SigningKeyPair.verify(signature: signature, message: message, publicKey: Self.public1))
        #expect(
            !SigningKeyPair.verify(signature: Array(signature.prefix(63)), message: message, publicKey: key.publicKey))
        #expect(
            !SigningKeyPair.verify(signature: signature, message: message, publicKey: Array(key.publicKey.prefix(31))))
    }

    @Test func refusesSeedOfWrongLength() {
        #expect(throws: HappyError.self) { try SigningKeyPair(seed: try secret([UInt8](repeating: 1, count: 31))) }
        #expect(throws: HappyError.self) {
            try BoxKeyPair.derived(fromSeed: try secret([UInt8](repeating: 1, count: 33)))
        }
    }

    @Test func generatesDistinctBoxKeyPairs() throws {
        let a = try BoxKeyPair.generate()
        let b = try BoxKeyPair.generate()
        #expect(a.publicKey.count == 32)
        #expect(a.secretKey.count == 32)
        #expect(a.publicKey != b.publicKey)
    }

    // MARK: base64

    @Test(
        arguments: [
            ("", []), ("QQ==", [0x41]), ("QUI=", [0x41, 0x42]), ("QUJD", [0x41, 0x42, 0x43]),
            ("+/8=", [0xFB, 0xFF]),
        ] as [(String, [UInt8])])
    func decodesStandardBase64(text: String, expected: [UInt8]) {
        #expect(Base64.decode(text) == expected)
        #expect(Base64.encode(expected) == text)
    }

    @Test(arguments: [
        "QUI", "QQ", "Q", "QUJD=", "QUJD==", "QQ===", "QUJ=", "QR==", "QU I=", " QUJD", "QUJD\n", "-_8=", "QUJD*",
        "QQ==QQ==",
    ])
    func rejectsMalformedStandardBase64(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test(
        arguments: [
            ("", []), ("QQ", [0x41]), ("QUI", [0x41, 0x42]), ("QUJD", [0x41, 0x42, 0x43]),
            ("-_8", [0xFB, 0xFF]),
        ] as [(String, [UInt8])])
    func decodesBase64URL(text: String, expected: [UInt8]) {
        #expect(Base64.decodeURL(text) == expected)
        #expect(Base64.encodeURL(expected) == text)
    }

    @Test(arguments: ["QQ==", "QUI=", "+/8", "-_8=", "Q", "QUJDR", "QU I", "QUJD\n", "QUJ", "QR"])
    func rejectsMalformedBase64URL(text: String) {
        #expect(Base64.decodeURL(text) == nil)
    }

    @Test func base64URLOfA32ByteKeyIs43Characters() {
        let key = counting(from: 0xE0, count: 32)
        let text = Base64.encodeURL(key)
        #expect(text.count == 43)
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(Base64.decodeURL(text) == key)
    }

    // MARK: SecretBytes

    @Test func secretBytesNeverDescribeTheirContents() throws {
        let value = try secret(Array("hunter2-hunter2-hunter2-hunter22".utf8))
        for text in [String(describing: value), String(reflecting: value), "\(value)", dumped(value)] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains("104, 117"))  // "hu" as decimal bytes
        }
        #expect(String(describing: value) == "SecretBytes(32 bytes, redacted)")
    }

    @Test func secretBytesConsumeAndWipeTheirSource() throws {
        var source: [UInt8] = [1, 2, 3, 4]
        let value = try SecretBytes(consuming: &source)
        #expect(source == [0, 0, 0, 0])
        #expect(bytes(of: value) == [1, 2, 3, 4])
        #expect(value.isEqual(to: try secret([1, 2, 3, 4])))
        #expect(!value.isEqual(to: try secret([1, 2, 3, 5])))
        #expect(!value.isEqual(to: try secret([1, 2, 3])))
    }

    @Test func aNulTerminatedCopyEndsInOneZeroByte() throws {
        #expect(bytes(of: try secret([0x70, 0x69, 0x6E]).nulTerminated()) == [0x70, 0x69, 0x6E, 0])
        #expect(bytes(of: try secret([]).nulTerminated()) == [0])
    }

    @Test func randomSecretsDiffer() throws {
        let a = try SecretBytes.random(count: 32)
        let b = try SecretBytes.random(count: 32)
        #expect(!a.isEqual(to: b))
    }

    private func dumped(_ value: Any) -> String {
        var text = ""
        dump(value, to: &text)
        return text
    }
}
