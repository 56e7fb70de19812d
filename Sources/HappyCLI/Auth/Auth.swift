import ArgumentParser

extension Happy {
    struct Auth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log this machine in or out of Happy, show its status, approve a terminal, or print the token.",
            subcommands: [Login.self, Status.self, Logout.self, Approve.self, Token.self])
    }
}
