internal import CQRencode

/// A QR symbol as plain values, from libqrencode; `QRRenderer` (pure Swift) turns it into text rows.
public struct QRMatrix: Equatable, Sendable {
    public let size: Int
    private let dark: [Bool]  // row-major, size × size

    /// Encodes `text` as 8-bit data, error correction level L, smallest version that fits.
    public init(encoding text: String) throws {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L) else {
            throw HappyError.internalFailure("could not encode the QR code")
        }
        defer { QRcode_free(code) }
        size = Int(code.pointee.width)
        dark = (0..<size * size).map { code.pointee.data[$0] & 1 == 1 }
    }

    /// A matrix from rows of modules (tests decode renderings back into this).
    public init(rows: [[Bool]]) {
        size = rows.count
        dark = rows.flatMap { $0 }
    }

    public func isDark(row: Int, column: Int) -> Bool {
        guard row >= 0, column >= 0, row < size, column < size else { return false }  // quiet zone
        return dark[row * size + column]
    }
}
