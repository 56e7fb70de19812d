/// What the device login says while it waits (PROTOCOL §7): the server it polls, by `host[:port]`, on the spinner
/// line and the plain non-TTY line alike; and, after a minute without approval, one hint for the most common cause
/// of an endless wait — the app or web app talking to a different server than this terminal.
enum ApprovalWaitText {
    static let hintAfterSeconds = 60

    /// "Waiting for approval from api.cluster-fluster.com".
    static func label(server: ServerURL) -> String {
        "Waiting for approval from \(server.hostAndPort)"
    }

    static func hint(server: ServerURL) -> String {
        "Still no approval after \(hintAfterSeconds) s. Make sure the Happy app or web app uses the same server "
            + "(\(server.hostAndPort)), as self-hosting needs; or approve from another logged-in "
            + "terminal with `happy auth approve <url>`."
    }
}
