import ArgumentParser
import HappyKit

/// Flags shared by every command that talks to a server.
struct ServerOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in settings.json, else the public "
                + "server).",
            valueName: "url"))
    var serverArgument: ServerArgument?

    @Option(
        help: ArgumentHelp(
            "A PEM bundle of extra CA roots to trust for the server (also $HAPPY_CA_FILE).",
            valueName: "file"),
        completion: .file(extensions: ["pem", "crt"]))
    var ca: String?

    @Flag(
        help: """
            Log each request (method, path, status, timing, retries) to stderr; secrets are never logged. \
            Same as HAPPY_DEBUG=1.
            """)
    var debug = false

    /// `--server`, typed; nil when not given (or empty).
    var server: ServerURL? { serverArgument?.url }

    func validate() throws { try serverArgument?.validate() }

    /// The server this command talks to: `--server`, else the environment, settings or default (validated there).
    func serverURL(in context: HappyContext) throws -> ServerURL { try context.serverURL(flag: server) }

    /// `--ca`, else `HAPPY_CA_FILE`.
    func caFile(in context: HappyContext) -> String? { context.caFile(override: ca) }
}
