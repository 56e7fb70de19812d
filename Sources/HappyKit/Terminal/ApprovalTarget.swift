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

/// The interactive choice between mobile and web, plus the browser certificate hand-off when the server advertises
/// mTLS (only when stdin and stdout are terminals).
struct MethodPicker {
    let console: Console

    func ask(offeringCertificate: Bool = false) async throws -> LoginMethod {
        console.err("How do you want to approve this terminal?")
        console.err("  1) Mobile app: scan a QR code")
        console.err("  2) Web browser")
        if offeringCertificate { console.err("  3) Device certificate in the browser (enterprise)") }
        let choices = offeringCertificate ? "1, 2 or 3" : "1 or 2"
        while true {
            console.errRaw("Choose \(choices) [1]: ")
            guard let line = await console.readLine() else { throw CancellationError() }
            let answer = line.trimmingWhitespace().lowercased()
            if offeringCertificate, ["3", "c", "certificate"].contains(answer) { return .certificate }
            switch answer {
            case "", "1", "m", "mobile": return .mobile
            case "2", "w", "web": return .web
            default: console.err("Please answer \(choices).")
            }
        }
    }
}
