internal import CSodium

/// An ed25519 keypair, `crypto_sign_seed_keypair(masterSecret)`: how the approving side logs in (PROTOCOL §1).
public struct SigningKeyPair: Sendable {
    public let publicKey: [UInt8]
    private let secretKey: SecretBytes

    public init(seed: SecretBytes) throws {
        Sodium.ensureInitialized()
        guard seed.count == Int(crypto_sign_SEEDBYTES) else {
            throw HappyError.internalFailure("seed must be 32 bytes")
        }
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        secretKey = try SecretBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { skBuf in
            let rc = seed.withUnsafeBytes { s in
                crypto_sign_seed_keypair(
                    &pk, skBuf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard rc == 0 else { throw HappyError.internalFailure("crypto_sign_seed_keypair failed") }
        }
        publicKey = pk
    }

    /// A detached ed25519 signature of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        _ = secretKey.withUnsafeBytes { sk in
            crypto_sign_detached(
                &sig, nil, message, UInt64(message.count), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return sig
    }

    /// Verifies a detached ed25519 signature.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        Sodium.ensureInitialized()
        guard signature.count == Int(crypto_sign_BYTES), publicKey.count == Int(crypto_sign_PUBLICKEYBYTES) else {
            return false
        }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    /// Random bytes for challenges and nonces.
    public static func randomChallenge(count: Int = 32) -> [UInt8] { Sodium.randomBytes(count: count) }
}
