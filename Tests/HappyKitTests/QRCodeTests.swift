import Foundation
import Testing

@testable import HappyKit

/// The approval QR code (PROTOCOL §4): libqrencode's matrix, drawn with █ ▀ ▄ and space (or ASCII) with a 4-module
/// quiet zone. The drawing is read back two ways: `QRRenderer.decode`, and an independent reading here that also
/// feeds a real scanner (zbarimg).
@Suite struct QRCodeTests {
    let sandbox = Sandbox()
    static let url = "happy://terminal?" + Base64.encodeURL(counting(from: 0xE0, count: 32))

    static let renderers: [QRRenderer] = [
        QRRenderer(style: .unicode, inverted: false), QRRenderer(style: .unicode, inverted: true),
        QRRenderer(style: .ascii, inverted: false), QRRenderer(style: .ascii, inverted: true),
    ]

    @Test func encodesTheApprovalURLAsVersion4() throws {
        #expect(Self.url.utf8.count == 60)
        let matrix = try QRMatrix(encoding: Self.url)
        #expect(matrix.size == 33)  // 60 bytes at level L need version 4 (version 3 holds 53)
        // The three finder patterns: a dark 7×7 ring around a dark 3×3 core, with a light separator.
        for (top, left) in [(0, 0), (0, 26), (26, 0)] {
            for r in -1...7 {
                for c in -1...7 {
                    let ring = max(abs(r - 3), abs(c - 3))
                    let expected = ring == 3 || ring <= 1
                    guard (0..<33).contains(top + r), (0..<33).contains(left + c) else { continue }
                    #expect(
                        matrix.isDark(row: top + r, column: left + c) == expected, "finder at \(top),\(left): \(r),\(c)"
                    )
                }
            }
        }
        #expect(!matrix.isDark(row: -1, column: 0))  // outside the symbol: quiet zone
        #expect(!matrix.isDark(row: 0, column: 33))
    }

    @Test(arguments: renderers)
    func decodingTheRenderingGivesBackTheMatrix(renderer: QRRenderer) throws {
        let matrix = try QRMatrix(encoding: Self.url)
        let rows = renderer.render(matrix)
        #expect(renderer.decode(rows, size: matrix.size) == matrix)
        #expect(Self.modules(of: rows, renderer: renderer).dark == Self.withQuietZone(matrix))
    }

    @Test(arguments: renderers)
    func rowsHaveOneWidthAndOnlyTheAllowedCharacters(renderer: QRRenderer) throws {
        let matrix = try QRMatrix(encoding: Self.url)
        let rows = renderer.render(matrix)
        let total = matrix.size + 2 * QRRenderer.quietZone
        let allowed: Set<Character> = renderer.style == .unicode ? ["█", "▀", "▄", " "] : ["#", " "]
        #expect(rows.count == (renderer.style == .unicode ? (total + 1) / 2 : total))
        for row in rows {
            #expect(row.count == renderer.width(of: matrix))
            #expect(Set(row).isSubset(of: allowed), "\(row)")
        }
        #expect(renderer.width(of: matrix) == (renderer.style == .unicode ? total : 2 * total))
    }

    @Test(arguments: renderers)
    func hasAFourModuleQuietZone(renderer: QRRenderer) throws {
        let matrix = try QRMatrix(encoding: Self.url)
        let dark = Self.modules(of: renderer.render(matrix), renderer: renderer).dark
        let total = matrix.size + 8
        for r in 0..<total {
            for c in 0..<total where r < 4 || c < 4 || r >= total - 4 || c >= total - 4 {
                #expect(!dark[r][c], "quiet zone module \(r),\(c) is dark")
            }
        }
    }

    @Test func drawsLightModulesWithInkByDefaultAndDarkOnesWhenInverted() throws {
        let matrix = try QRMatrix(encoding: Self.url)
        // Top-left corner of the quiet zone is light: ink on a dark terminal, blank on a light one.
        #expect(QRRenderer(style: .unicode).render(matrix)[0].first == "█")
        #expect(QRRenderer(style: .unicode, inverted: true).render(matrix)[0].first == " ")
        #expect(QRRenderer(style: .ascii).render(matrix)[0].hasPrefix("##"))
    }

    @Test func decodeRejectsRowsOfTheWrongShape() throws {
        let matrix = try QRMatrix(encoding: Self.url)
        for renderer in Self.renderers {
            var rows = renderer.render(matrix)
            #expect(renderer.decode(Array(rows.dropLast()), size: matrix.size) == nil)
            rows[3] += " "
            #expect(renderer.decode(rows, size: matrix.size) == nil)
        }
    }

    /// zbarimg (zbar-tools) is installed by `make test` (scripts/install-deps.sh): missing, the test fails.
    @Test(arguments: renderers)
    func anOrdinaryScannerReadsTheRendering(renderer: QRRenderer) throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/zbarimg"),
            "/usr/bin/zbarimg is missing: run `make test` or scripts/install-deps.sh test (zbar-tools)")
        let matrix = try QRMatrix(encoding: Self.url)
        let image = Self.modules(of: renderer.render(matrix), renderer: renderer)
        let path = sandbox.root + "/qr.pbm"
        try Self.pbm(image.dark, scale: 8).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zbarimg")
        process.arguments = ["--nodbus", "--raw", "-q", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: data, as: UTF8.self) == Self.url + "\n")
    }

    // MARK: an independent reading of the drawing

    /// Reads the text back into modules, quiet zone included. A drawn cell is "ink"; on a dark terminal (not
    /// inverted) ink is light, so a module is dark exactly when `ink == inverted`.
    static func modules(of rows: [String], renderer: QRRenderer) -> (dark: [[Bool]], size: Int) {
        var ink: [[Bool]] = []
        switch renderer.style {
        case .ascii:
            ink = rows.map { row in
                let chars = Array(row); return stride(from: 0, to: chars.count, by: 2).map { chars[$0] == "#" }
            }
        case .unicode:
            for row in rows {
                ink.append(row.map { $0 == "█" || $0 == "▀" })
                ink.append(row.map { $0 == "█" || $0 == "▄" })
            }
            let total = rows.first?.count ?? 0
            if ink.count > total { ink.removeLast() }  // an odd module count leaves half a text row
        }
        return (ink.map { $0.map { $0 == renderer.inverted } }, ink.count)
    }

    static func withQuietZone(_ matrix: QRMatrix) -> [[Bool]] {
        (-4..<(matrix.size + 4)).map { r in (-4..<(matrix.size + 4)).map { c in matrix.isDark(row: r, column: c) } }
    }

    /// A plain PBM (P1) image, black for dark modules, each module `scale` pixels square.
    static func pbm(_ dark: [[Bool]], scale: Int) -> Data {
        var text = "P1\n\(dark.count * scale) \(dark.count * scale)\n"
        for row in dark {
            let line = row.flatMap { Array(repeating: $0 ? "1" : "0", count: scale) }.joined(separator: " ") + "\n"
            for _ in 0..<scale { text += line }
        }
        return Data(text.utf8)
    }
}

extension QRRenderer: CustomTestStringConvertible {
    public var testDescription: String { "\(style)\(inverted ? ", inverted" : "")" }
}
