internal import CSodium

/// The app's HMAC-SHA512 key tree (PROTOCOL §5; slopus/happy packages/happy-app/sources/encryption/deriveKey.ts):
/// root `I = HMAC-SHA512(key: usage + " Master Seed", data: master)`, each path element
/// `I = HMAC-SHA512(key: chainCode, data: 0x00 || UTF-8(element))`, `key = I[0..<32]`, `chainCode = I[32..<64]`.
/// Every intermediate value lives in `SecretBytes`; the HMAC state is wiped after each use.
public enum KeyTree {
    static let nodeLength = Int(crypto_auth_hmacsha512_BYTES)  // 64: key || chainCode

    /// `deriveKey(master, usage, path)`: the 32-byte key at the end of `path`.
    public static func deriveKey(master: SecretBytes, usage: String, path: [String]) throws -> SecretBytes {
        let label = Array((usage + " Master Seed").utf8)
        var node = try master.withUnsafeBytes { m in try label.withUnsafeBytes { try hmacSHA512(key: $0, data: m) } }
        for element in path {
            let data = [0x00] + Array(element.utf8)  // 0x00 separates the chain code from the index
            node = try node.withUnsafeBytes { n in
                try data.withUnsafeBytes { try hmacSHA512(key: UnsafeRawBufferPointer(rebasing: n[32..<64]), data: $0) }
            }
        }
        return try node.withUnsafeBytes { n in
            try SecretBytes(count: 32) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: n[0..<32])) }
        }
    }

    /// The account's content public key, as the app computes it (PROTOCOL §5): the public half of
    /// `crypto_box_seed_keypair(deriveKey(masterSecret, "Happy EnCoder", ["content"]))`. What a v2 answer carries.
    public static func contentPublicKey(masterSecret: SecretBytes) throws -> [UInt8] {
        let seed = try deriveKey(master: masterSecret, usage: "Happy EnCoder", path: ["content"])
        return try BoxKeyPair.derived(fromSeed: seed).publicKey  // the seed and secret key are wiped on release
    }

    /// HMAC-SHA512 of `data` under `key` (any length), straight into `SecretBytes`.
    static func hmacSHA512(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) throws -> SecretBytes {
        Sodium.ensureInitialized()
        return try SecretBytes(count: nodeLength) { out in
            var state = crypto_auth_hmacsha512_state()
            defer { withUnsafeMutableBytes(of: &state) { Sodium.wipe($0) } }  // it holds the padded key
            guard let keyBase = key.baseAddress else { throw HappyError.internalFailure("HMAC-SHA512 needs a key") }
            var rc = crypto_auth_hmacsha512_init(&state, keyBase.assumingMemoryBound(to: UInt8.self), key.count)
            if rc == 0 {
                rc = crypto_auth_hmacsha512_update(
                    &state, data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
            }
            if rc == 0 {
                rc = crypto_auth_hmacsha512_final(&state, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard rc == 0 else { throw HappyError.internalFailure("HMAC-SHA512 failed") }
        }
    }
}
