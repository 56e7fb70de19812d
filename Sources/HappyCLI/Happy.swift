import ArgumentParser
import HappyKit

/// The command tree (`Entry` is the process entry and hands every command line but status's to it).
struct Happy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "happy",
        abstract: "Link this terminal to your Happy account.",
        discussion: """
            Happy lets you drive AI coding sessions on your machines from your phone. `happy auth login` links \
            this machine to your account; `happy auth status` shows whether it is linked.

            Every other command line (no arguments, `happy daemon start`, `happy --resume`, ...) is handed unchanged \
            to the full happy CLI (sessions, daemon): $HAPPY_FULL_CLI when set, else the next `happy` on PATH that \
            is not this program. Its exit status is passed back.

            Exit codes: 0 ok; 1 other failure; 64 usage; 69 server unreachable or untrusted; \
            74 standard output could not be written; 75 timed out waiting for approval; 76 bad or undecryptable server response; \
            77 refused by the server (401/403/409) or by a local check; 129 hung up (SIGHUP); \
            130 interrupted (SIGINT); 143 terminated (SIGTERM).
            """,
        version: HappyVersion.current,
        subcommands: [Auth.self])
}
