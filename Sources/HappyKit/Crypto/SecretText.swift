internal import CSodium

/// Text that carries secrets, assembled inside locked memory: the plain parts are copied in and each secret is
/// written as base64 straight from its own `SecretBytes`, so the whole text never exists in a `String`, `Array` or
/// `Data` that nobody wipes. `AccessKey.serialized()` builds the bytes of `access.key` this way.
struct SecretText {
    private enum Part {
        case plain(String)
        case base64(SecretBytes)
    }

    private var parts: [Part] = []

    /// Appends text that holds nothing secret (JSON punctuation, keys, a public key's base64).
    mutating func append(_ text: String) { parts.append(.plain(text)) }

    /// Appends standard base64 (padded) of `secret`, encoded when `bytes()` fills the locked buffer.
    mutating func appendBase64(of secret: SecretBytes) { parts.append(.base64(secret)) }

    /// The UTF-8 text, in memory from `sodium_malloc`: its exact length is computed first, then every part is
    /// written in place (no intermediate copy).
    func bytes() throws -> SecretBytes {
        let count = parts.reduce(0) { total, part in
            switch part {
            case .plain(let text): total + text.utf8.count
            case .base64(let secret): total + SecretBytes.base64Length(of: secret.count)
            }
        }
        return try SecretBytes(count: count) { out in
            var offset = 0
            for part in parts {
                let rest = UnsafeMutableRawBufferPointer(rebasing: out[offset...])
                switch part {
                case .plain(var text):
                    offset += text.withUTF8 { utf8 in
                        rest.copyMemory(from: UnsafeRawBufferPointer(utf8))
                        return utf8.count
                    }
                case .base64(let secret):
                    offset += secret.withUnsafeBytes { SecretBytes.writeBase64(of: $0, into: rest) }
                }
            }
        }
    }
}

extension SecretBytes {
    /// The length of standard (padded) base64 of `count` bytes.
    static func base64Length(of count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes standard base64 (padded) of `bytes` at the start of `out`, which must have room for
    /// `base64Length(of: bytes.count)` bytes; returns that length. Allocates nothing, and looks up no table with a
    /// secret index (libsodium's arithmetic, so timing does not depend on the secret).
    @discardableResult
    static func writeBase64(of bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        let length = base64Length(of: bytes.count)
        precondition(out.count >= length, "no room for the base64 text")
        var input = 0
        var output = 0
        while input < bytes.count {
            let available = min(3, bytes.count - input)
            var group: UInt32 = 0
            for i in 0..<3 { group = group << 8 | (i < available ? UInt32(bytes[input + i]) : 0) }
            for i in 0..<4 {
                out[output + i] = i <= available ? base64Character(group >> (18 - 6 * UInt32(i)) & 0x3F) : 0x3D
            }
            input += 3
            output += 4
        }
        return length
    }

    /// One base64 digit (`x` < 64) without a branch or table on `x` (libsodium's `b64_byte_to_char`).
    private static func base64Character(_ x: UInt32) -> UInt8 {
        func lessThan(_ a: UInt32, _ b: UInt32) -> UInt32 { ((a &- b) >> 8) & 0xFF }
        func equal(_ a: UInt32, _ b: UInt32) -> UInt32 { ((0 &- (a ^ b)) >> 8) & 0xFF ^ 0xFF }
        let upper = lessThan(x, 26) & (x &+ 65)
        let lower = (lessThan(x, 26) ^ 0xFF) & lessThan(x, 52) & (x &+ 71)
        let digit = (lessThan(x, 52) ^ 0xFF) & lessThan(x, 62) & (x &- 4)
        let symbols = (equal(x, 62) & 0x2B) | (equal(x, 63) & 0x2F)
        return UInt8(truncatingIfNeeded: upper | lower | digit | symbols)
    }

    /// Decodes canonical standard base64 (padded, no stray bits, nothing else) straight into secret memory with
    /// libsodium's constant-time decoder; nil for anything else. The text itself is the caller's to wipe.
    static func decodingBase64(_ text: UnsafeRawBufferPointer) -> SecretBytes? {
        guard text.count % 4 == 0, let characters = text.baseAddress?.assumingMemoryBound(to: CChar.self) else {
            return text.isEmpty ? try? SecretBytes(count: 0) { _ in } : nil
        }
        let padding = text.suffix(2).reduce(0) { $0 + ($1 == 0x3D ? 1 : 0) }
        let count = text.count / 4 * 3 - padding
        var decoded = 0
        return try? SecretBytes(count: count) { out in
            let rc = sodium_base642bin(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), count, characters, text.count, nil, &decoded, nil,
                sodium_base64_VARIANT_ORIGINAL)
            guard rc == 0, decoded == count else { throw HappyError.badResponse("not canonical base64") }
        }
    }
}
