import FoundationEssentials

/// Shows the mobile approval target (PROTOCOL §1.3, §4): the QR code on stdout, then the URL alone on its own line.
/// A QR wider than the terminal is not drawn; a hint says so and the URL is still printed.
struct ApprovalTarget {
    let console: Console
    let inverted: Bool

    func showQR(for url: String) throws {
        let matrix = try QRMatrix(encoding: url)
        let renderer = QRRenderer(style: console.unicodeEnabled ? .unicode : .ascii, inverted: inverted)
        if let width = console.width, renderer.width(of: matrix) > width {
            console.err(
                "The QR code needs \(renderer.width(of: matrix)) columns but the terminal has \(width); "
                    + "widen the window and run again, or paste the URL below into the Happy app.")
        } else {
            console.out("")
            for row in renderer.render(matrix) { console.out(row) }
        }
        console.out(url)
    }
}
