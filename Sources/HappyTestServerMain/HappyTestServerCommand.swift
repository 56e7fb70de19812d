import ArgumentParser

/// `happy-test-server`: the in-memory fake Happy server, and a phone that approves terminals on it.
@main
struct HappyTestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "happy-test-server",
        abstract: "An in-memory Happy server for tests, and a phone that approves terminal logins on it.",
        discussion: """
            Environment: HAPPY_TEST_SERVER_SECRET (base64 of the 32-byte master secret of the built-in account; \
            random when unset), HAPPY_TEST_SERVER_TLS_CERT / _TLS_KEY / _CLIENT_CA, \
            HAPPY_TEST_SERVER_E2EE_IDENTITIES, HAPPY_TEST_SERVER_KNOWN_IDENTITIES, HAPPIER_FEATURE_AUTH_MTLS__*.
            """,
        subcommands: [Serve.self, Approve.self])
}
