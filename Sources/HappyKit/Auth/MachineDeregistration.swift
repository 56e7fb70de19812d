/// `happy auth logout --deregister` (PROTOCOL §7): before the local files go, asks the server to forget this machine
/// (`DELETE /v1/machines/<machineId>` with the stored token, newer happy-server). Whatever happens, the outcome is
/// one line and the logout goes on: a server without the route (404/405), a refused token, a failing or unreachable
/// server only mean the machine stays on the account, which the user can still remove in the app.
public struct MachineDeregistration: Sendable {
    public let server: ServerURL
    public let caFile: String?
    let context: HappyContext

    /// The whole exchange is bounded: logout must not hang on a slow server.
    public static let timeoutSeconds = 15

    public init(server: ServerURL, caFile: String?, context: HappyContext) {
        self.server = server
        self.caFile = caFile
        self.context = context
    }

    /// Asks the server and reports the outcome in one line. Throws only cancellation.
    public func run() async throws {
        let console = context.console
        let name = server.hostAndPort
        let notRemoved = "this machine could not be removed from the account on \(name)"
        let key: AccessKey?
        do { key = try AccessKey.load(from: context.home) } catch let error as HappyError {
            return console.warn("\(Self.sentence(notRemoved)): \(Self.reason(error)).")
        }
        guard let key else { return console.warn("\(Self.sentence(notRemoved)): no stored token to ask with.") }
        guard let machineId = (try? Settings.load(from: context.home))?.machineId else {
            return console.warn(
                "No machine ID is stored, so there is no machine to remove from the account on \(name).")
        }
        let reply: HappyAPI.Reply<SuccessReply>
        do {
            reply = try await context.withTransport(TransportOptions(caFile: caFile)) { transport in
                let api = HappyAPI(server: server, transport: transport, requestTimeout: .seconds(Self.timeoutSeconds))
                return try await api.deleteMachine(id: machineId, token: key.token)
            }
        } catch let error as HappyError {
            return console.warn("\(Self.sentence(notRemoved)): \(Self.reason(error)).")
        }
        switch reply.status {
        case 200...299:
            console.out("\(console.checkMark) Removed this machine from the account on \(name)")
        case 404 where reply.error == "Machine not found":
            console.out("This machine was not registered on the account on \(name); nothing to remove there.")
        case 404, 405:
            console.warn(
                "\(Self.sentence(notRemoved)): the server cannot remove machines (HTTP \(reply.status)). "
                    + "Remove it in the Happy app if it is still listed.")
        case 401, 403:
            console.warn(
                "\(Self.sentence(notRemoved)): the server no longer accepts this login (HTTP \(reply.status)). "
                    + "Remove it in the Happy app if it is still listed.")
        default:
            console.warn("\(Self.sentence(notRemoved)): the server answered HTTP \(reply.status).")
        }
    }

    private static func sentence(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }

    /// Why, in a few words: "cannot reach it (connection refused)", or the error's own sentence without the `happy: `
    /// prefix and final period. Escaped: it may quote a server or a file.
    private static func reason(_ error: HappyError) -> String {
        switch error {
        case .serverUnreachable(_, let why): return "cannot reach it (\(TerminalText.escape(why)))"
        case .untrustedServer(_, let why): return "its certificate is not trusted (\(TerminalText.escape(why)))"
        default:
            var message = Substring(error.userMessage)
            if message.hasPrefix("happy: ") { message = message.dropFirst("happy: ".count) }
            while message.hasSuffix(".") { message = message.dropLast() }
            return String(message)
        }
    }
}
