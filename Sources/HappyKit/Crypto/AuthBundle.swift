internal import CSodium

/// The encrypted answer to a terminal auth request (PROTOCOL §1.5):
/// `ephemeralPublicKey(32) || nonce(24) || crypto_box ciphertext`.
public enum AuthBundle {
    static let publicKeyLength = 32
    static let nonceLength = 24
    static let macLength = 16

    /// What the bundle carried.
    public enum Content: Sendable {
        /// 32 bytes: the account's master secret.
        case legacy(secret: SecretBytes)
        /// `0x00 || contentPublicKey(32)`.
        case dataKey(publicKey: [UInt8])
    }

    /// Opens `bundle` with the terminal's secret key. Throws `.badResponse` on any malformed or undecryptable input.
    /// The plaintext is wiped after it is classified.
    public static func open(_ bundle: [UInt8], with keyPair: BoxKeyPair) throws -> Content {
        Sodium.ensureInitialized()
        guard bundle.count >= publicKeyLength + nonceLength + macLength else {
            throw HappyError.badResponse("the encrypted answer is too short (\(bundle.count) bytes)")
        }
        let ephemeral = Array(bundle[0..<publicKeyLength])
        let nonce = Array(bundle[publicKeyLength..<(publicKeyLength + nonceLength)])
        let cipher = Array(bundle[(publicKeyLength + nonceLength)...])
        let plain = try SecretBytes(count: cipher.count - macLength) { out in
            let rc = keyPair.secretKey.withUnsafeBytes { sk in
                crypto_box_open_easy(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), cipher,
                    UInt64(cipher.count), nonce, ephemeral,
                    sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard rc == 0 else {
                throw HappyError.badResponse("the encrypted answer failed authentication (wrong key or tampered)")
            }
        }
        return try plain.withUnsafeBytes { p -> Content in
            if p.count == 32 {
                return .legacy(secret: try SecretBytes(count: 32) { $0.copyMemory(from: p) })
            }
            if p.count == 33 {
                guard p[0] == 0x00 else {
                    throw HappyError.badResponse("unknown answer version byte 0x\(String(p[0], radix: 16))")
                }
                return .dataKey(publicKey: Array(p[1...]))
            }
            throw HappyError.badResponse("the decrypted answer has \(p.count) bytes; expected 32 or 33")
        }
    }

    /// Seals `plaintext` for `recipientPublicKey` with a fresh ephemeral keypair and random nonce — the approving
    /// side (PROTOCOL §1, "The approving side").
    public static func seal(_ plaintext: SecretBytes, for recipientPublicKey: [UInt8]) throws -> [UInt8] {
        guard recipientPublicKey.count == publicKeyLength else {
            throw HappyError.usage("the terminal's public key must be 32 bytes, got \(recipientPublicKey.count)")
        }
        let ephemeral = try BoxKeyPair.generate()
        let nonce = Sodium.randomBytes(count: nonceLength)
        var cipher = [UInt8](repeating: 0, count: plaintext.count + macLength)
        let rc = plaintext.withUnsafeBytes { p in
            ephemeral.secretKey.withUnsafeBytes { sk in
                crypto_box_easy(
                    &cipher, p.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(p.count), nonce,
                    recipientPublicKey, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw HappyError.internalFailure("crypto_box_easy failed") }
        return ephemeral.publicKey + nonce + cipher
    }

    /// The v1 plaintext: the 32-byte master secret.
    public static func legacyPlaintext(secret: SecretBytes) throws -> SecretBytes {
        try SecretBytes(count: secret.count) { dst in secret.withUnsafeBytes { dst.copyMemory(from: $0) } }
    }

    /// The v2 plaintext: `0x00 || contentPublicKey`.
    public static func dataKeyPlaintext(contentPublicKey: [UInt8]) throws -> SecretBytes {
        try SecretBytes(count: 33) { dst in
            dst[0] = 0
            for (i, b) in contentPublicKey.prefix(32).enumerated() { dst[i + 1] = b }
        }
    }
}
