/// `HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_ISSUERS` (seed 000): CN entries (`cn=…` or bare) separated by commas, or
/// full DNs separated by newlines or `;`. Comparison ignores case and whitespace. A CN entry matches the issuer's CN;
/// a DN entry needs the whole DN (in either RDN order, since OpenSSL prints C first and RFC 4514 prints CN first).
public struct IssuerAllowList: Sendable, Equatable {
    enum Entry: Equatable {
        case commonName(String)
        case distinguishedName([String])
    }

    let entries: [Entry]

    public init() { entries = [] }

    public init(parsing text: String) {
        var entries: [Entry] = []
        for segment in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == ";" }) {
            let components = DistinguishedNameText.split(String(segment))
            let keys = components.map { DistinguishedNameText.key(of: $0) }
            if components.count > 1, keys.allSatisfy({ $0 != nil }), keys.contains(where: { $0 != "cn" }) {
                entries.append(.distinguishedName(components.map(DistinguishedNameText.normalize)))
            } else if components.count == 1, let key = keys[0], key != "cn" {
                entries.append(.distinguishedName(components.map(DistinguishedNameText.normalize)))
            } else {
                for component in components {
                    var value = component
                    if DistinguishedNameText.key(of: component) == "cn" {
                        value = String(component.drop { $0 != "=" }.dropFirst())
                    }
                    let normalized = DistinguishedNameText.squash(value)
                    if !normalized.isEmpty { entries.append(.commonName(normalized)) }
                }
            }
        }
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether an issuer (normalized RDN components, as `DistinguishedNameText.components` makes them) is allowed.
    /// An empty list allows every issuer, including an unknown one.
    func allows(issuer: [String]?) -> Bool {
        if entries.isEmpty { return true }
        guard let issuer, !issuer.isEmpty else { return false }
        let commonNames = issuer.compactMap { $0.hasPrefix("cn=") ? String($0.dropFirst(3)) : nil }
        return entries.contains { entry in
            switch entry {
            case .commonName(let name): commonNames.contains(name)
            case .distinguishedName(let dn): dn == issuer || dn == issuer.reversed()
            }
        }
    }
}

/// Textual distinguished names, normalized to `key=value` components: lower-case, whitespace removed.
enum DistinguishedNameText {
    /// Normalized components of `text`, or a single `cn=` component when `text` is a bare name.
    static func components(_ text: String) -> [String] {
        let parts = split(text)
        if parts.allSatisfy({ key(of: $0) != nil }) { return parts.map(normalize) }
        return ["cn=" + squash(text)]
    }

    /// Splits at commas that are not escaped with a backslash; trims each part.
    static func split(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                current.append(character)
                escaped = true
            } else if character == "," {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// The lower-cased attribute key of `key=value`, when the key looks like one (letters, digits, dots).
    static func key(of component: String) -> String? {
        guard let equals = component.firstIndex(of: "=") else { return nil }
        let key = component[..<equals].trimmingWhitespace().lowercased()
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) else { return nil }
        return key
    }

    static func normalize(_ component: String) -> String {
        guard let equals = component.firstIndex(of: "="), let key = key(of: component) else { return squash(component) }
        return key + "=" + squash(String(component[component.index(after: equals)...]))
    }

    /// Lower-cased, with whitespace and escaping backslashes removed.
    static func squash(_ text: String) -> String {
        String(text.lowercased().filter { !$0.isWhitespace && $0 != "\\" })
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
