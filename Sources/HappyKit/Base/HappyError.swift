/// Every failure `happy` reports to a user. `userMessage` is one line: what happened, then what to do next.
/// Never carries a token, secret or key.
public enum HappyError: Error, Equatable, Sendable {
    case serverUnreachable(server: String, reason: String)
    case untrustedServer(server: String, reason: String)
    case approvalTimedOut(seconds: Int)
    /// The server let the login request expire before it was approved (a poll answered 410; exit 75).
    case requestExpired
    /// Includes bundles that fail to decrypt (exit 76).
    case badResponse(String)
    /// 401/403/409 from the server, or a local check that failed (exit 77).
    case refused(String)
    case fileProblem(path: String, reason: String)
    case usage(String)
    /// Something the user must act on that is none of the above (exit 1), e.g. an unknown approval request.
    case failed(String)
    case internalFailure(String)

    /// The single mapping from errors to exit statuses (PROTOCOL §4).
    public var exitStatus: ExitStatus {
        switch self {
        case .serverUnreachable, .untrustedServer: .unavailable
        case .approvalTimedOut, .requestExpired: .timedOut
        case .badResponse: .badResponse
        case .refused: .refused
        case .usage: .usage
        case .fileProblem, .failed, .internalFailure: .failure
        }
    }

    /// The one line shown to the user: `happy: ` and the reason. The prefix is added here and nowhere else.
    public var userMessage: String { "happy: " + reason }

    /// What happened, then what to do next, without the `happy: ` prefix (for ArgumentParser's `Error:` lines and
    /// for reports that quote it). Whatever a server, file or certificate contributed is shown with control
    /// characters escaped.
    public var reason: String { TerminalText.escape(rawReason) }

    private var rawReason: String {
        switch self {
        case .serverUnreachable(let server, let reason):
            "cannot reach \(server): \(reason). Check the network, or --server / HAPPY_SERVER_URL."
        case .untrustedServer(let server, let reason):
            "the certificate of \(server) is not trusted (\(reason)). "
                + "If it uses a private CA, pass it with --ca <file> or HAPPY_CA_FILE."
        case .approvalTimedOut(let seconds):
            "no approval arrived within \(seconds) s. Run `happy auth login` again, or raise --timeout."
        case .requestExpired:
            "the server let this login request expire before it was approved; nothing was written. "
                + "Run `happy auth login` again."
        case .badResponse(let what):
            "the server's answer could not be used: \(what). Nothing was written; try `happy auth login` again."
        case .fileProblem(let path, let reason):
            "\(path): \(reason)"
        case .refused(let what), .usage(let what), .failed(let what):
            what
        case .internalFailure(let what):
            "internal error: \(what)"
        }
    }
}
