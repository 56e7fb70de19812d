import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Approve: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve another terminal's login from this logged-in machine.",
            discussion: """
                Pass the happy://terminal?… URL the other terminal shows (for example a headless server you \
                reached over SSH). Answers with this machine's stored keys, exactly as the Happy app would.
                """)

        @Argument(help: ArgumentHelp("The other terminal's approval URL (happy://terminal?…).", valueName: "url"))
        var url: String
        @OptionGroup var serverOptions: ServerOptions

        var wantsDebug: Bool { serverOptions.debug }

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            let flow = ApproveFlow(
                server: try serverOptions.serverURL(in: context), caFile: serverOptions.caFile(in: context),
                context: context)
            try await flow.run(url: url)
        }
    }
}
