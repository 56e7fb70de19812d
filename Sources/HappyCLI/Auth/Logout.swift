import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Logout: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log this machine out: stop the daemon, remove credentials and the machine ID.",
            discussion: """
                Asks for confirmation unless --yes is given. Files that happy does not own are kept. Only \
                --deregister talks to the Happy server; when the server cannot remove the machine, that is said in \
                one line and the logout goes on.
                """)

        @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
        var yes = false
        @Flag(help: "First ask the server to remove this machine from the account (newer happy-server).")
        var deregister = false
        @OptionGroup var serverOptions: ServerOptions

        var wantsDebug: Bool { serverOptions.debug }

        func validate() throws {
            if !deregister, serverOptions.server != nil || serverOptions.ca != nil {
                throw ValidationError("--server and --ca apply to --deregister only; logout alone never asks a server")
            }
        }

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            var beforeClearing: (@Sendable () async throws -> Void)?
            if deregister {
                let step = MachineDeregistration(
                    server: try serverOptions.serverURL(in: context), caFile: serverOptions.caFile(in: context),
                    context: context)
                beforeClearing = { try await step.run() }
            }
            try await LogoutFlow(context: context).run(
                assumeYes: yes, beforeClearing: beforeClearing)
        }
    }
}
