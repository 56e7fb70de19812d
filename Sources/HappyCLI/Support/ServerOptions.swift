import ArgumentParser
import HappyKit

/// Flags shared by every command that talks to a server.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in settings.json, else the public "
                + "server).",
            valueName: "url"))
    var server: String?

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

    func validate() throws {
        if let server, !server.isEmpty {  // an empty value counts as absent (PROTOCOL §3)
            do { _ = try ServerURL.validated(server, source: "--server") } catch let error as HappyError {
                throw ValidationError(String(error.userMessage.dropFirst("happy: ".count)))
            }
        }
    }
}
