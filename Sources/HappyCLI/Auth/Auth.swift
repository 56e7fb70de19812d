import ArgumentParser

extension Happy {
    struct Auth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log this machine in or out of Happy, show its status, or approve another terminal.",
            subcommands: [Login.self, Status.self, Logout.self, Approve.self])
    }
}
