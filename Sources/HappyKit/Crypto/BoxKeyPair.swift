internal import CSodium

/// An X25519 box keypair (`crypto_box_keypair`). The secret half lives in `SecretBytes`.
public struct BoxKeyPair: Sendable {
    public static let keyLength = 32
    public let publicKey: [UInt8]
    public let secretKey: SecretBytes

    /// A fresh ephemeral keypair (PROTOCOL §1.1).
    public static func generate() throws -> BoxKeyPair {
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: Int(crypto_box_PUBLICKEYBYTES))
        let sk = try SecretBytes(count: Int(crypto_box_SECRETKEYBYTES)) { skBuf in
            guard crypto_box_keypair(&pk, skBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0 else {
                throw HappyError.internalFailure("crypto_box_keypair failed")
            }
        }
        return BoxKeyPair(publicKey: pk, secretKey: sk)
    }

    /// A keypair derived from a 32-byte seed (`crypto_box_seed_keypair`).
    public static func derived(fromSeed seed: SecretBytes) throws -> BoxKeyPair {
        Sodium.ensureInitialized()
        guard seed.count == Int(crypto_box_SEEDBYTES) else { throw HappyError.internalFailure("seed must be 32 bytes") }
        var pk = [UInt8](repeating: 0, count: Int(crypto_box_PUBLICKEYBYTES))
        let sk = try SecretBytes(count: Int(crypto_box_SECRETKEYBYTES)) { skBuf in
            let ok = seed.withUnsafeBytes { s in
                crypto_box_seed_keypair(
                    &pk, skBuf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard ok == 0 else { throw HappyError.internalFailure("crypto_box_seed_keypair failed") }
        }
        return BoxKeyPair(publicKey: pk, secretKey: sk)
    }

    public init(publicKey: [UInt8], secretKey: SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}
