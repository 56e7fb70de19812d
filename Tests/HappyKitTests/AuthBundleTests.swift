import Foundation
import Testing

@testable import HappyKit

/// `AuthBundle.open` against bundles made by libsodium's `crypto_box_easy` in C with fixed keys and nonce (the
/// vectors below), so the two sides share no code. Recipient seed 01…20, ephemeral seed 40…5f, nonce 80…97.
@Suite struct AuthBundleTests {
    static let recipientSeed = counting(from: 0x01, count: 32)
    static let recipientPublicKey = hex("4a3807d064d077181cc070989e76891d20dca5559548dc2c77c1a50273882b38")
    static let prefix =
        "f14b5173130a1b80687f273d49e8f4740a793a949b83b105837f2a61e8fee14f"  // ephemeral pk
        + "808182838485868788898a8b8c8d8e8f9091929394959697"  // nonce
    /// plaintext a0…bf
    static let legacy = hex(
        prefix + "d21fccf163a103d7bd2dfb9f973bfa57f74ba04659df7a03660d2037eb13e3b9"
            + "fc3b32a03afa61021c6121c42d1eb971")
    /// plaintext 00 || c0…df
    static let dataKey = hex(
        prefix + "e23b958d07c9f5c0777f72ddcff4bacf572ac3273ebe1962096c43568c7280d8"
            + "835a51c15d9b0263730042a54a7fda1096")
    /// plaintext 01 || c0…df
    static let versionOne = hex(
        prefix + "aabad10de8b699e3932645acea6801b8562ac3273ebe1962096c43568c7280d8"
            + "835a51c15d9b0263730042a54a7fda1096")
    /// plaintext a0…be (31 bytes)
    static let length31 = hex(
        prefix + "353644e81f86054bd3d5a31b0ad8d43df74ba04659df7a03660d2037eb13e3b9"
            + "fc3b32a03afa61021c6121c42d1eb9")
    /// plaintext a0…c1 (34 bytes)
    static let length34 = hex(
        prefix + "45c6ad5b1697e17de39eb58e0bdcd5b2f74ba04659df7a03660d2037eb13e3b9"
            + "fc3b32a03afa61021c6121c42d1eb9718956")

    func recipient() throws -> BoxKeyPair { try BoxKeyPair.derived(fromSeed: try secret(Self.recipientSeed)) }

    @Test func derivesTheRecipientKeyLikeLibsodium() throws {
        #expect(try recipient().publicKey == Self.recipientPublicKey)
    }

    @Test func opensLegacyBundleOf32Bytes() throws {
        guard case .legacy(let secret) = try AuthBundle.open(Self.legacy, with: try recipient()) else {
            Issue.record("expected a legacy answer")
            return
        }
        #expect(bytes(of: secret) == counting(from: 0xA0, count: 32))
    }

    @Test func opensDataKeyBundleOf33Bytes() throws {
        guard case .dataKey(let publicKey) = try AuthBundle.open(Self.dataKey, with: try recipient()) else {
            Issue.record("expected a dataKey answer")
            return
        }
        #expect(publicKey == counting(from: 0xC0, count: 32))
    }

    @Test func rejectsUnknownVersionByte() throws {
        try expectBadResponse(Self.versionOne, containing: "0x1")
    }

    @Test(arguments: [(AuthBundleTests.length31, 31), (AuthBundleTests.length34, 34)])
    func rejectsPlaintextOfWrongLength(bundle: [UInt8], length: Int) throws {
        try expectBadResponse(bundle, containing: "\(length) bytes")
    }

    @Test(arguments: [0, 31, 32, 55, 56, 71, 103])
    func rejectsBundleWithAFlippedByte(at index: Int) throws {
        var tampered = Self.legacy
        tampered[index] ^= 0x01
        try expectBadResponse(tampered, containing: "failed authentication")
    }

    @Test func rejectsBundleForAnotherRecipient() throws {
        let other = try BoxKeyPair.derived(fromSeed: try secret(counting(from: 0x02, count: 32)))
        #expect(throws: HappyError.badResponse("the encrypted answer failed authentication (wrong key or tampered)")) {
            try AuthBundle.open(Self.legacy, with: other)
        }
    }

    @Test(arguments: [0, 1, 32, 56, 71])
    func rejectsTooShortBundle(length: Int) throws {
        try expectBadResponse(Array(Self.legacy.prefix(length)), containing: "too short")
    }

    @Test func rejectsBundleThatIsOnlyAMAC() throws {
        // 72 bytes: key, nonce and 16 bytes of the real ciphertext, which are not a MAC over nothing.
        try expectBadResponse(Array(Self.legacy.prefix(72)), containing: "failed authentication")
    }

    @Test func sealThenOpenRoundTripsBothVersions() throws {
        let terminal = try BoxKeyPair.generate()
        let master = counting(from: 0x10, count: 32)
        let v1 = try AuthBundle.seal(
            try AuthBundle.legacyPlaintext(secret: try secret(master)), for: terminal.publicKey)
        #expect(v1.count == 32 + 24 + 16 + 32)
        guard case .legacy(let opened) = try AuthBundle.open(v1, with: terminal) else {
            Issue.record("expected legacy")
            return
        }
        #expect(bytes(of: opened) == master)

        let content = counting(from: 0x70, count: 32)
        let v2 = try AuthBundle.seal(
            try AuthBundle.dataKeyPlaintext(contentPublicKey: content), for: terminal.publicKey)
        guard case .dataKey(let publicKey) = try AuthBundle.open(v2, with: terminal) else {
            Issue.record("expected dataKey")
            return
        }
        #expect(publicKey == content)
    }

    @Test func sealUsesAFreshEphemeralKeyAndNonceEachTime() throws {
        let terminal = try BoxKeyPair.generate()
        let plaintext = try secret(counting(from: 0, count: 32))
        let a = try AuthBundle.seal(plaintext, for: terminal.publicKey)
        let b = try AuthBundle.seal(plaintext, for: terminal.publicKey)
        #expect(a.prefix(32) != b.prefix(32))
        #expect(a[32..<56] != b[32..<56])
    }

    @Test func sealRejectsARecipientKeyOfWrongLength() throws {
        #expect(throws: HappyError.self) {
            try AuthBundle.seal(try secret([1, 2, 3]), for: [UInt8](repeating: 7, count: 31))
        }
    }

    private func expectBadResponse(
        _ bundle: [UInt8], containing text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let keys = try recipient()
        let error = #expect(throws: HappyError.self, sourceLocation: sourceLocation) {
            try AuthBundle.open(bundle, with: keys)
        }
        guard case .badResponse(let what)? = error else {
            Issue.record("expected .badResponse, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(what.contains(text), "\(what)", sourceLocation: sourceLocation)
        #expect(error?.exitStatus == .badResponse, sourceLocation: sourceLocation)
    }
}
