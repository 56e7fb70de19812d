/// The base64 secrets of `access.key`, taken out of the file's raw bytes before the JSON parser sees them, so the
/// parser never copies them into `String`s that nobody wipes. Each string value of a secret key (`secret`,
/// `machineKey`) that is canonical base64 without escapes is decoded straight into `SecretBytes` and overwritten in
/// the bytes by a placeholder of the same length; `AccessKey.parse` then finds the placeholder where the secret was
/// and takes the decoded bytes instead.
///
/// Nothing is masked in a file with a backslash (an escape could spell anything), and the placeholder is made of a
/// character the file does not contain: so no other value can read as a placeholder. A value this does not take
/// (not base64, or no free character) is left for the parser, which reads it the ordinary way and reports it as
/// before when it is bad.
struct MaskedSecrets {
    static let keys = ["secret", "machineKey"]
    private static let markers: [UInt8] = Array("~^|`!".utf8)

    private var found: [(placeholder: String, secret: SecretBytes)] = []

    /// Masks the secrets in `bytes` (in place).
    init(masking bytes: inout [UInt8]) {
        guard !bytes.contains(UInt8(ascii: "\\")), let marker = Self.markers.first(where: { !bytes.contains($0) })
        else { return }
        for key in Self.keys {
            let quotedKey = Array("\"\(key)\"".utf8)
            var start = 0
            while let keyEnd = Self.find(quotedKey, in: bytes, from: start) {
                start = keyEnd
                guard let range = Self.stringValue(in: bytes, after: keyEnd) else { continue }
                let secret = bytes.withUnsafeBytes {
                    SecretBytes.decodingBase64(UnsafeRawBufferPointer(rebasing: $0[range]))
                }
                let index = Array(String(found.count).utf8)
                guard let secret, range.count > index.count else { continue }
                let placeholder = index + [UInt8](repeating: marker, count: range.count - index.count)
                bytes.replaceSubrange(range, with: placeholder)
                found.append((String(decoding: placeholder, as: UTF8.self), secret))
            }
        }
    }

    /// The secret a masked value held, given the text the parser returned for it; nil for a value that was not
    /// masked.
    func secret(for text: String) -> SecretBytes? {
        found.first { $0.placeholder == text }?.secret
    }

    /// The end of the first occurrence of `needle` at or after `start`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i + needle.count }
            i += 1
        }
        return nil
    }

    /// After a key's closing quote: optional JSON whitespace, `:`, whitespace, then a string. The range of its
    /// characters (quotes excluded), or nil when the value is anything else.
    private static func stringValue(in bytes: [UInt8], after keyEnd: Int) -> Range<Int>? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var i = keyEnd
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let first = i + 1
        guard let close = bytes[first...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return first..<close
    }
}
