/// Process exit statuses (PROTOCOL §4, sysexits). Thrown directly when the message was already shown.
public enum ExitStatus: Int32, Error, Sendable, CaseIterable {
    case ok = 0
    case failure = 1
    case usage = 64
    case unavailable = 69
    /// EX_IOERR: stdout could not be written (`/dev/full`, closed), so the report or version never arrived.
    case ioError = 74
    case timedOut = 75
    case badResponse = 76
    case refused = 77
    /// SIGHUP (128 + 1); nothing was written.
    case hungUp = 129
    /// SIGINT (128 + 2); nothing was written.
    case interrupted = 130
    /// SIGTERM (128 + 15); nothing was written.
    case terminated = 143
}
