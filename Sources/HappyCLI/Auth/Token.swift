import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Token: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the stored access token, for scripts.",
            discussion: """
                Prints the token and a newline on stdout and nothing else, for example \
                curl -H "Authorization: Bearer $(happy auth token)". Exits 1 with one line on stderr when logged out \
                or when access.key cannot be read. The token is a password: do not paste it anywhere public.
                """)

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            context.console.out(try StoredToken.read(from: context.home))
        }
    }
}
