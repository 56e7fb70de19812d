/// The few string operations `happy` used from full Foundation, on the standard library alone: FoundationEssentials
/// has no `CharacterSet`, so no `trimmingCharacters(in:)`, `addingPercentEncoding` or `removingPercentEncoding`.
/// Each keeps the semantics of the Foundation call it replaces (Foundation trims and tests Unicode scalars).
extension StringProtocol {
    /// `trimmingCharacters(in: .whitespaces)`: without leading and trailing spaces (Unicode Zs) and tabs.
    func trimmingWhitespace() -> String {
        trimming { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    }

    /// `trimmingCharacters(in: .whitespacesAndNewlines)`: also without line breaks (LF, VT, FF, CR, NEL, LS, PS).
    func trimmingWhitespaceAndNewlines() -> String {
        trimming {
            $0 == "\t" || $0.properties.generalCategory == .spaceSeparator
                || ("\n"..."\r").contains($0) || $0 == "\u{85}" || $0 == "\u{2028}" || $0 == "\u{2029}"
        }
    }

    private func trimming(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !isTrimmed($0) })
        else { return "" }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars[first...last])
        return String(kept)
    }

    /// `removingPercentEncoding`: every `%XX` decoded; nil for a `%` without two hex digits or bytes that are not
    /// UTF-8.
    var percentDecoded: String? {
        var bytes: [UInt8] = []
        var input = utf8.makeIterator()
        while let byte = input.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = input.next().flatMap(Self.hexValue), let low = input.next().flatMap(Self.hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Percent-encodes every UTF-8 byte except the RFC 3986 unreserved characters (ASCII letters, digits, `-._~`).
    var percentEncodedUnreserved: String {
        var out = ""
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + byte.hexUppercased
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension UInt8 {
    /// `String(format: "%02X", self)`: two upper-case hex digits.
    var hexUppercased: String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        return String(String.UnicodeScalarView([digits[Int(self >> 4)], digits[Int(self & 0x0F)]]))
    }
}
