import FoundationEssentials

/// An RFC 7512 `pkcs11:` URI naming a certificate and its private key on a token (PROTOCOL §6): path attributes
/// (`token`, `object`, `id`, `serial`, `manufacturer`, `model`, `type`, …) separated by `;`, query attributes after `?`
/// separated by `&`. A `pin-value` is refused: the URI travels in argv, which other users can read.
public struct PKCS11URI: Equatable, Sendable {
    /// Path attributes in URI order, values as written (still percent-encoded: `id` may hold any bytes).
    public let attributes: [(name: String, value: String)]
    /// Query attributes other than PINs (`module-name`, `module-path`), as written.
    public let query: [(name: String, value: String)]

    public static func == (a: PKCS11URI, b: PKCS11URI) -> Bool {
        a.attributes.elementsEqual(b.attributes, by: ==) && a.query.elementsEqual(b.query, by: ==)
    }

    /// Whether `text` is meant as a token URI rather than a file.
    public static func isURI(_ text: String) -> Bool { text.lowercased().hasPrefix("pkcs11:") }

    /// Parses `text`; throws `HappyError.usage` (exit 64) for a malformed URI or one carrying `pin-value`.
    public init(_ text: String) throws {
        guard Self.isURI(text) else { throw HappyError.usage("\(text.prefix(40)) is not a pkcs11: URI") }
        let body = text.dropFirst("pkcs11:".count)
        let parts = body.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        func pairs(_ text: Substring, separator: Character) throws -> [(name: String, value: String)] {
            try text.split(separator: separator).map { item in
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, !kv[0].isEmpty,
                    let name = String(kv[0]).percentDecoded?.lowercased(),
                    Self.isWellFormed(kv[1])
                else { throw HappyError.usage("--cert: malformed pkcs11: URI attribute \"\(item.prefix(40))\"") }
                return (name, String(kv[1]))
            }
        }
        let path = try pairs(parts[0], separator: ";")
        let queryPairs = parts.count > 1 ? try pairs(parts[1], separator: "&") : []
        if path.contains(where: { $0.name == "pin-value" }) || queryPairs.contains(where: { $0.name == "pin-value" }) {
            throw HappyError.usage(
                "--cert: the pkcs11: URI carries pin-value, and the command line is visible to other users; remove "
                    + "it and give the PIN with --cert-password-file, HAPPY_CERT_PASSWORD or the prompt")
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
        query = queryPairs.filter { !$0.name.hasPrefix("pin-") }
    }

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

    /// The URI as given, without PIN attributes (`pin-source` too), for `access.key` and messages.
    public var description: String { Self.render(attributes, query: query) }

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
