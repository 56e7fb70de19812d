/// Draws a `QRMatrix` as text (PROTOCOL §4): two modules per text row with █ ▀ ▄ and space, a 4-module quiet zone,
/// or an ASCII variant (`##` per dark module, one module per row) for terminals without UTF-8.
/// `inverted` swaps dark and light for terminals with a light background.
public struct QRRenderer: Sendable {
    public enum Style: Sendable { case unicode, ascii }
    public static let quietZone = 4

    public var style: Style
    public var inverted: Bool

    public init(style: Style = .unicode, inverted: Bool = false) {
        self.style = style
        self.inverted = inverted
    }

    /// Columns the rendering needs.
    public func width(of matrix: QRMatrix) -> Int {
        let modules = matrix.size + 2 * Self.quietZone
        return style == .unicode ? modules : modules * 2
    }

    /// The text rows. In the default (dark-on-light terminal inverted) sense a *light* module is drawn with ink,
    /// because terminals draw text light on dark: the drawn blocks are the light modules and the quiet zone.
    public func render(_ matrix: QRMatrix) -> [String] {
        let q = Self.quietZone
        let range = -q..<(matrix.size + q)
        // On a dark terminal the ink is light, so ink marks light modules; inverted (light terminal) marks dark ones.
        func ink(_ r: Int, _ c: Int) -> Bool { matrix.isDark(row: r, column: c) == inverted }
        switch style {
        case .ascii:
            return range.map { r in String(range.map { c in ink(r, c) ? "##" : "  " }.joined()) }
        case .unicode:
            return stride(from: -q, to: matrix.size + q, by: 2).map { r in
                String(
                    range.map { c -> Character in
                        switch (ink(r, c), ink(r + 1, c) && r + 1 < matrix.size + q) {
                        case (true, true): "█"
                        case (true, false): "▀"
                        case (false, true): "▄"
                        case (false, false): " "
                        }
                    })
            }
        }
    }

    /// Parses a rendering back into the module matrix (quiet zone stripped) — the inverse of `render`, used to
    /// prove the drawing is exact.
    public func decode(_ rows: [String], size: Int) -> QRMatrix? {
        let q = Self.quietZone
        let total = size + 2 * q
        var grid = [[Bool]](repeating: [Bool](repeating: false, count: total), count: total)
        switch style {
        case .ascii:
            guard rows.count == total else { return nil }
            for (r, line) in rows.enumerated() {
                let chars = Array(line)
                guard chars.count == total * 2 else { return nil }
                for c in 0..<total { grid[r][c] = chars[2 * c] == "#" }
            }
        case .unicode:
            guard rows.count == (total + 1) / 2 else { return nil }
            for (i, line) in rows.enumerated() {
                let chars = Array(line)
                guard chars.count == total else { return nil }
                for c in 0..<total {
                    let (top, bottom): (Bool, Bool) =
                        switch chars[c] {
                        case "█": (true, true)
                        case "▀": (true, false)
                        case "▄": (false, true)
                        case " ": (false, false)
                        default: (false, false)
                        }
                    grid[2 * i][c] = top
                    if 2 * i + 1 < total { grid[2 * i + 1][c] = bottom }
                }
            }
        }
        let modules = (q..<(q + size)).map { r in (q..<(q + size)).map { c in grid[r][c] == inverted } }
        return QRMatrix(rows: modules)
    }
}
