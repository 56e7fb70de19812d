import FoundationEssentials

/// The interactive choice between mobile and web, plus the browser certificate hand-off when the server advertises
/// mTLS (only when stdin and stdout are terminals).
struct MethodPicker {
    let console: Console

    /// The method of a login without `--cert`: `--method` when given; else the picker when stdin and stdout are
    /// terminals (offering the browser certificate when `/v1/features` advertises mTLS); else mobile (PROTOCOL §4).
    static func resolve(for options: LoginOptions, context: HappyContext) async throws -> LoginMethod {
        if let method = options.method { return method }
        guard context.console.canPrompt else { return .mobile }
        let offering = await advertisesMTLS(options: options, context: context)
        return try await MethodPicker(console: context.console).ask(offeringCertificate: offering)
    }

    /// Whether `GET /v1/features` advertises mTLS. Any failure just leaves the choice out: the QR and web logins do
    /// not depend on it. A short timeout: the picker must not hang on a slow server just to decide about choice 3.
    static func advertisesMTLS(options: LoginOptions, context: HappyContext) async -> Bool {
        let advertised = try? await context.withTransport(TransportOptions(caFile: options.caFile)) { transport in
            try await HappyAPI(server: options.server, transport: transport).features(timeout: .seconds(3))?
                .mtlsEnabled
        }
        return advertised == true
    }

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
