import Crypto
import Foundation
import HappyKit

/// An account as the phone holds it: the master secret and the keys derived from it (PROTOCOL §1,
/// "The approving side"). The secret never leaves this type except sealed inside a v1 bundle.
public struct PhoneAccount: Sendable {
    /// Which answer layout to send (PROTOCOL §1.5).
    public enum Version: String, Sendable, CaseIterable { case v1, v2 }

    /// The plaintext to seal. The `bad…` cases are deliberate protocol errors for testing the terminal.
    public enum Payload: String, Sendable, CaseIterable {
        /// The 32-byte master secret (v1).
        case legacy
        /// `0x00 || contentPublicKey` (v2).
        case datakey
        /// `0x01 || contentPublicKey`: an unknown version byte.
        case badVersion = "bad-version"
        /// 31 bytes: neither layout.
        case badLength = "bad-length"

        public static func `default`(for version: Version) -> Payload { version == .v1 ? .legacy : .datakey }
    }

    private let masterSecret: SecretBytes
    let signingKeys: SigningKeyPair
    /// The content key a v2 answer carries, derived as the app derives it (PROTOCOL §5).
    public let contentPublicKey: [UInt8]
    /// The ed25519 login public key, `crypto_sign_seed_keypair(masterSecret)`.
    public var loginPublicKey: [UInt8] { signingKeys.publicKey }

    public init(masterSecret: SecretBytes) throws {
        self.masterSecret = masterSecret
        signingKeys = try SigningKeyPair(seed: masterSecret)
        contentPublicKey = try masterSecret.withUnsafeBytes { try Self.appContentPublicKey(masterSecret: Array($0)) }
    }

    /// PROTOCOL §5 written out a second time, on swift-crypto instead of HappyKit's libsodium `KeyTree`, so one
    /// mistake cannot pass on both sides: `seed = deriveKey(masterSecret, "Happy EnCoder", ["content"])` (HMAC-SHA512
    /// key tree), then `crypto_box_seed_keypair(seed)` = X25519 with the secret key `SHA-512(seed)[0..<32]`.
    static func appContentPublicKey(masterSecret: [UInt8]) throws -> [UInt8] {
        let root = Array(
            HMAC<SHA512>.authenticationCode(
                for: masterSecret, using: SymmetricKey(data: Array("Happy EnCoder Master Seed".utf8))))
        let child = Array(
            HMAC<SHA512>.authenticationCode(
                for: [0x00] + Array("content".utf8), using: SymmetricKey(data: root[32..<64])))
        let boxSecret = Array(SHA512.hash(data: child[0..<32]))[0..<32]
        return Array(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: boxSecret).publicKey.rawRepresentation)
    }

    /// The account of a master secret given as standard base64 (`--secret`, `HAPPY_TEST_SERVER_SECRET`).
    /// The decoded bytes are wiped once copied into `SecretBytes`.
    public init(base64MasterSecret encoded: String) throws {
        guard var bytes = Base64.decode(encoded), bytes.count == 32 else {
            throw TestServerError("the master secret must be the standard base64 of 32 bytes")
        }
        try self.init(masterSecret: try SecretBytes(consuming: &bytes))
    }

    /// A fresh account with a random master secret.
    public static func random() throws -> PhoneAccount {
        try PhoneAccount(masterSecret: try SecretBytes.random(count: 32))
    }

    /// The `POST /v1/auth` body: a random 32-byte challenge and its detached signature.
    func signedChallenge() -> JSON {
        let challenge = SigningKeyPair.randomChallenge(count: 32)
        return [
            "publicKey": .string(Base64.encode(signingKeys.publicKey)), "challenge": .string(Base64.encode(challenge)),
            "signature": .string(Base64.encode(signingKeys.sign(challenge))),
        ]
    }

    /// The sealed answer bundle for `terminalPublicKey`; `tamper` flips one ciphertext byte after sealing.
    public func bundle(for terminalPublicKey: [UInt8], payload: Payload, tamper: Bool = false) throws -> [UInt8] {
        let plaintext: SecretBytes
        switch payload {
        case .legacy: plaintext = try AuthBundle.legacyPlaintext(secret: masterSecret)
        case .datakey: plaintext = try AuthBundle.dataKeyPlaintext(contentPublicKey: contentPublicKey)
        case .badVersion: plaintext = try SecretBytes(count: 33) { $0.copyBytes(from: [0x01] + contentPublicKey) }
        case .badLength: plaintext = try SecretBytes(count: 31) { $0.copyBytes(from: contentPublicKey.prefix(31)) }
        }
        var bundle = try AuthBundle.seal(plaintext, for: terminalPublicKey)
        if tamper { bundle[bundle.count - 1] ^= 0x01 }  // the last byte is ciphertext (the MAC comes first)
        return bundle
    }

    /// Reads a terminal's public key from `happy://terminal?<b64url>`, `…/terminal/connect#key=<b64url>`, or bare
    /// base64url / standard base64.
    public static func terminalPublicKey(from text: String) -> [UInt8]? {
        var key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if key.hasPrefix("happy://terminal?") {
            key = String(key.dropFirst("happy://terminal?".count))
        } else if let range = key.range(of: "#key=") {
            key = String(key[range.upperBound...])
        }
        guard let bytes = Base64.decodeURL(key) ?? Base64.decode(key), bytes.count == 32 else { return nil }
        return bytes
    }
}
