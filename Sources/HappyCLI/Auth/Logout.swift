import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Logout: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log this machine out: stop the daemon, remove credentials and the machine ID.",
            discussion: "Asks for confirmation unless --yes is given. Files that happy does not own are kept.")

        @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
        var yes = false

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            try await LogoutFlow(context: context).run(assumeYes: yes)
        }
    }
}
