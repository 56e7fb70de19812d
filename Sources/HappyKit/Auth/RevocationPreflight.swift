import FoundationEssentials

/// `--revocation-check`: what to do about the OCSP preflight of `login --cert` (PROTOCOL §6).
public enum RevocationCheck: String, Sendable, CaseIterable {
    /// No check.
    case off
    /// Revoked stops the login; an unreachable, silent or unsure responder only warns (the default).
    case soft
    /// Anything short of a verified "good" stops the login.
    case strict
}

/// The revocation preflight of `login --cert` (PROTOCOL §6): asks the OCSP responder named in the certificate's
/// Authority Information Access extension, over the run's ordinary transport (so proxies and `--debug` apply) with a
/// 5 s timeout and a nonce, and verifies the answer against the issuer. Runs before any request to the Happy server.
struct RevocationPreflight {
    let mode: RevocationCheck
    let context: HappyContext
    let caFile: String?
    /// The login's deadline: the query takes at most 5 s and never more than what is left of it.
    let deadline: Deadline

    static let timeout = Duration.seconds(5)
    /// OCSP answers are small; a responder sending more is broken.
    static let maximumAnswerBytes = 64 * 1024

    /// Throws `refused` (77) for a revoked certificate, and in strict mode for anything inconclusive; otherwise
    /// returns, after a line on stderr saying what was checked (or a warning saying what could not be).
    func check(leafDER: [UInt8], issuerDER: [UInt8]?) async throws {
        guard mode != .off else { return }
        try LazyCrypto.load()
        guard let rawURL = OCSPQuery.responderURL(leafDER: leafDER) else {
            return try inconclusive("the certificate names no OCSP responder")
        }
        guard let issuerDER else {
            return try inconclusive(
                "the issuer's certificate is not at hand (put the CA certificate after yours in "
                    + "the PEM file or PKCS#12 bundle)")
        }
        let query = try OCSPQuery(leafDER: leafDER, issuerDER: issuerDER)
        // The URL comes from the certificate: shown only escaped, and used only once it passes the same rules as a
        // server URL (http(s), a host, no spaces or control characters, no user name).
        let url = TerminalText.excerpt(rawURL, limit: 120)
        guard (try? ServerURL.validated(rawURL, source: "the OCSP responder URL")) != nil,
            let components = URLComponents(string: rawURL), components.host?.isEmpty == false
        else {
            return try inconclusive("the certificate's OCSP responder \(url) is not a valid http(s) URL")
        }
        let request = HTTPRequest(
            method: "POST", url: rawURL,
            headers: ["Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"],
            body: query.requestDER, timeout: min(Self.timeout, try deadline.remaining()))
        let response: HTTPResponse
        do {
            response = try await context.withTransport(
                TransportOptions(caFile: caFile, maxBodyBytes: Self.maximumAnswerBytes)
            ) { transport in try await transport.send(request) }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HappyError {
            return try inconclusive("the OCSP responder \(url) could not be asked (\(LoggingTransport.reason(error)))")
        } catch {
            return try inconclusive("the OCSP responder \(url) could not be asked")
        }
        guard response.status == 200 else {
            return try inconclusive("the OCSP responder \(url) answered HTTP \(response.status)")
        }
        switch query.evaluate(responseDER: response.body, requireProvenFreshness: mode == .strict) {
        case .good:
            context.console.err("Revocation check (OCSP, \(url)): not revoked.")
        case .revoked(let at, let reason):
            let when = at.map { " on \($0.formatted(.iso8601))" } ?? ""
            throw HappyError.refused(
                "the client certificate was revoked\(when) (reason: \(reason)), says its CA's OCSP responder \(url); "
                    + "nothing was sent to the Happy server. Ask for a new certificate")
        case .unknown(let why):
            try inconclusive("\(why) (OCSP responder \(url))")
        }
    }

    private func inconclusive(_ why: String) throws {
        if mode == .strict {
            throw HappyError.refused(
                "cannot confirm that the client certificate is not revoked: \(why). --revocation-check strict stops "
                    + "here; nothing was sent to the Happy server")
        }
        context.console.warn("could not check revocation: \(why); going on (--revocation-check strict would stop)")
    }
}
