import FoundationEssentials

/// An RFC 7512 `pkcs11:` URI naming a certificate and its private key on a token (PROTOCOL §6): path attributes
/// (`token`, `object`, `id`, `serial`, `manufacturer`, `model`, `type`, …) separated by `;`, query attributes after `?`
/// separated by `&`. Every `pin-*` attribute (`pin-value`, `pin-source`, in the path or the query, in any case, its
/// name percent-encoded or not) is refused: the URI travels in argv, which other users can read, and the PIN comes
/// only from `--cert-password-file`, `HAPPY_CERT_PASSWORD` or the prompt. A repeated attribute is refused too (readers
/// disagree on which one wins). What is kept and stored is `normalized`.
public struct PKCS11URI: Equatable, Sendable {
    /// Path attributes in URI order, names lower-cased and decoded, values percent-encoded canonically (`id` may
    /// hold any bytes).
    public let attributes: [(name: String, value: String)]
    /// Query attributes (`module-name`, `module-path`), normalised the same way.
    public let query: [(name: String, value: String)]

    public static func == (a: PKCS11URI, b: PKCS11URI) -> Bool {
        a.attributes.elementsEqual(b.attributes, by: ==) && a.query.elementsEqual(b.query, by: ==)
    }

    /// Whether `text` is meant as a token URI rather than a file.
    public static func isURI(_ text: String) -> Bool { text.lowercased().hasPrefix("pkcs11:") }

    /// Parses `text`; throws `HappyError.usage` (exit 64) for a malformed URI, one carrying any `pin-*` attribute, or
    /// one naming an attribute twice.
    public init(_ text: String) throws {
        guard Self.isURI(text) else { throw HappyError.usage("\(text.prefix(40)) is not a pkcs11: URI") }
        let body = text.dropFirst("pkcs11:".count)
        let parts = body.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        func pairs(_ text: Substring, separator: Character) throws -> [(name: String, value: String)] {
            try text.split(separator: separator).map { item in
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let malformed = HappyError.usage(
                    "--cert: malformed pkcs11: URI attribute \"\(TerminalText.excerpt(kv[0], limit: 40))\"")
                guard !kv[0].isEmpty, Self.isWellFormed(kv[0]), let name = String(kv[0]).percentDecoded?.lowercased()
                else { throw malformed }
                // Checked before the value is looked at: a PIN never reaches a message.
                guard !name.hasPrefix("pin-") else {
                    throw HappyError.usage(
                        "--cert: the pkcs11: URI carries \(TerminalText.excerpt(name, limit: 20)), which happy does not "
                            + "take (the command line is visible to other users, and a pin-source could point "
                            + "anywhere); remove it and give the PIN with --cert-password-file, HAPPY_CERT_PASSWORD "
                            + "or the prompt")
                }
                guard kv.count == 2, Self.isWellFormed(kv[1]) else { throw malformed }
                return (name, Self.canonical(kv[1], keeping: separator == ";" ? ":@" : ":@/"))
            }
        }
        let path = try pairs(parts[0], separator: ";")
        let queryPairs = parts.count > 1 ? try pairs(parts[1], separator: "&") : []
        for list in [path, queryPairs] {
            var seen = Set<String>()
            for (name, _) in list where !seen.insert(name).inserted {
                throw HappyError.usage(
                    "--cert: the pkcs11: URI names \(TerminalText.excerpt(name, limit: 20)) more than once; give each "
                        + "attribute once")
            }
        }
        if let type = path.first(where: { $0.name == "type" })?.value,
            !["cert", "private", "public"].contains(type)
        {
            throw HappyError.usage("--cert: pkcs11: URI type=\(type.prefix(20)) cannot select a certificate and key")
        }
        guard path.contains(where: { ["token", "object", "id", "serial", "model", "manufacturer"].contains($0.name) })
        else {
            throw HappyError.usage("--cert: the pkcs11: URI selects nothing; name at least token= and object= (or id=)")
        }
        attributes = path
        query = queryPairs
    }

    /// The URI in one canonical spelling, as used and as stored in `access.key`: `pkcs11:`, the path attributes in
    /// the order given, then the query; names lower-case; values percent-encoded with upper-case hex for every byte
    /// but the unreserved ones (and `:` `@`, plus `/` in the query). Never holds a PIN attribute.
    public var normalized: String { Self.render(attributes, query: query) }

    /// The percent-decoded value of a path attribute (nil when absent or not UTF-8).
    public subscript(name: String) -> String? { attributes.first { $0.name == name }?.value.percentDecoded }

    /// Every `%` starts a two-digit hex escape, and no character needs escaping that is not escaped.
    private static func isWellFormed(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, bytes[index + 1].isHexDigit, bytes[index + 2].isHexDigit
                else { return false }
                index += 3
            } else {
                guard byte > 0x20, byte < 0x7F else { return false }
                index += 1
            }
        }
        return true
    }

    /// `normalized`, for messages.
    public var description: String { normalized }

    /// `value` (well-formed) decoded and encoded again: unreserved bytes and `extra` as they are, every other byte
    /// as `%XX`.
    private static func canonical(_ value: Substring, keeping extra: String) -> String {
        var decoded: [UInt8] = []
        let bytes = Array(value.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let byte = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                decoded.append(byte)
                index += 3
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        let kept = Set(("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + extra).utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in decoded {
            if kept.contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The URI selecting the object of `type` (`cert` or `private`) with the same other path attributes.
    func selecting(type: String) -> String {
        Self.render(attributes.filter { $0.name != "type" } + [("type", type)], query: [])
    }

    private static func render(_ path: [(name: String, value: String)], query: [(name: String, value: String)])
        -> String
    {
        func encode(_ pair: (name: String, value: String)) -> String { pair.name + "=" + pair.value }
        let text = "pkcs11:" + path.map(encode).joined(separator: ";")
        return query.isEmpty ? text : text + "?" + query.map(encode).joined(separator: "&")
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
