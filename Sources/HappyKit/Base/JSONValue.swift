/// A JSON value that keeps object key order and number lexemes, so files shared with the TypeScript CLI
/// round-trip byte for byte. `formatted()` prints exactly what `JSON.stringify(value, null, 2)` prints.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)  // the lexeme as read, or as JavaScript would print it
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// Sets or replaces `key`, keeping the position of an existing key; new keys go last.
    public mutating func set(_ key: String, _ value: JSONValue?) {
        guard case .object(var pairs) = self else { return }
        if let i = pairs.firstIndex(where: { $0.0 == key }) {
            if let value { pairs[i].1 = value } else { pairs.remove(at: i) }
        } else if let value {
            pairs.append((key, value))
        }
        self = .object(pairs)
    }

    /// `JSON.stringify(value, null, 2)`.
    public func formatted() -> String {
        var out = ""
        write(into: &out, indent: "", step: "  ")
        return out
    }

    /// One line, no spaces: `JSON.stringify(value)`. `escapingAllControls` also writes DEL, C1 controls and
    /// bidirectional overrides as `\uXXXX` (the same value, safe to show on a terminal).
    public func compact(escapingAllControls: Bool = false) -> String {
        var out = ""
        write(into: &out, indent: nil, step: "", escapeAll: escapingAllControls)
        return out
    }

    private func write(into out: inout String, indent: String?, step: String, escapeAll: Bool = false) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.quote(s, into: &out, escapeAll: escapeAll)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + indent + step }
                item.write(into: &out, indent: indent.map { $0 + step }, step: step, escapeAll: escapeAll)
            }
            if let indent { out += "\n" + indent }
            out += "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + indent + step }
                JSONValue.quote(key, into: &out, escapeAll: escapeAll)
                out += indent == nil ? ":" : ": "
                value.write(into: &out, indent: indent.map { $0 + step }, step: step, escapeAll: escapeAll)
            }
            if let indent { out += "\n" + indent }
            out += "}"
        }
    }

    /// JSON.stringify's string escaping: `"`, `\`, the short escapes, other controls as \u00XX, lone surrogates
    /// cannot occur in Swift strings. Everything else, `/` and non-ASCII included, is written as is.
    static func quote(_ s: String, into out: inout String, escapeAll: Bool = false) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || (escapeAll && TerminalText.isControl(c)):
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
