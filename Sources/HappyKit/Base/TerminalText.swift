/// Text that came from outside (a server's JSON, a file of the home, a certificate, an environment variable) on its
/// way to a terminal: control characters are shown escaped, never sent raw, so a hostile value cannot move the
/// cursor, clear the screen, retitle the window or hide text (C0 and C1 controls, DEL, and the bidirectional
/// overrides of "Trojan Source").
public enum TerminalText {
    /// `text` with every control character written as `\u{XX}`; everything else unchanged.
    public static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// At most `limit` characters of `text`, escaped; an ellipsis marks a cut.
    public static func excerpt(_ text: some StringProtocol, limit: Int = 80) -> String {
        let cut = text.count > limit
        return escape(text.prefix(limit)) + (cut ? "…" : "")
    }

    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true  // bidi marks, embeddings, overrides, isolates
        default: false
        }
    }
}
