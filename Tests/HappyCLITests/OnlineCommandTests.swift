import ArgumentParser
import Foundation
import HappyKit
import Testing

@testable import HappyCLI

/// The flags of PROTOCOL §7 through the real parser: `status --check`, `auth token`, `logout --deregister`; and the
/// status fast path, which must leave every one of them to the parser.
@Suite struct OnlineCommandTests {
    let directory = TemporaryDirectory()
    var home: String { directory.path + "/home" }

    @Test func parsesStatusCheck() throws {
        let plain = try #require(try Happy.parseAsRoot(["auth", "status"]) as? Happy.Auth.Status)
        #expect(!plain.check && plain.timeout == nil && plain.serverOptions.server == nil)
        let status = try #require(
            try Happy.parseAsRoot([
                "auth", "status", "--check", "--json", "--server", "https://happy.test", "--ca", "ca.pem",
                "--timeout", "30", "--debug",
            ]) as? Happy.Auth.Status)
        #expect(status.check && status.json && status.timeout == 30 && status.wantsDebug)
        #expect(status.serverOptions.server?.string == "https://happy.test" && status.serverOptions.ca == "ca.pem")
        for arguments in [["auth", "status", "--check"], ["auth", "status", "--check", "--json"]] {
            #expect(Happy.Auth.Status.fastPath(arguments[...]) == nil, "\(arguments)")
        }
    }

    @Test func parsesTokenAndDeregister() throws {
        #expect(try Happy.parseAsRoot(["auth", "token"]) is Happy.Auth.Token)
        let logout = try #require(
            try Happy.parseAsRoot(["auth", "logout", "--yes", "--deregister", "--server", "https://h.test"])
                as? Happy.Auth.Logout)
        #expect(logout.yes && logout.deregister && logout.serverOptions.server?.string == "https://h.test")
        let plain = try #require(try Happy.parseAsRoot(["auth", "logout", "-y"]) as? Happy.Auth.Logout)
        #expect(!plain.deregister)
    }

    @Test(
        arguments: [
            (["auth", "status", "--server", "https://h.test"], "apply to --check only"),
            (["auth", "status", "--json", "--ca", "ca.pem"], "apply to --check only"),
            (["auth", "status", "--timeout", "5"], "apply to --check only"),
            (["auth", "status", "--check", "--timeout", "0"], "--timeout must be between 1 and 300 seconds"),
            (["auth", "status", "--check", "--timeout", "301"], "--timeout must be between 1 and 300 seconds"),
            (["auth", "status", "--check", "--server", "ftp://h.test"], "--server must be an http:// or https:// URL"),
            (["auth", "logout", "--server", "https://h.test"], "apply to --deregister only"),
            (["auth", "logout", "--ca", "ca.pem"], "apply to --deregister only"),
            (["auth", "token", "--json"], "--json"),
        ] as [([String], String)])
    func rejectsBadCombinationsWithUsageExit(arguments: [String], message: String) {
        let error = #expect(throws: (any Error).self) { try Happy.parseAsRoot(arguments) }
        guard let error else { return }
        #expect(Happy.exitCode(for: error).rawValue == HappyKit.ExitStatus.usage.rawValue)
        #expect(Happy.message(for: error).contains(message), "\(Happy.message(for: error))")
    }

    @Test func tokenPrintsOnlyTheToken() async throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try Data(#"{"token": "tok.keyless-0123456789"}"#.utf8).write(to: URL(fileURLWithPath: home + "/access.key"))
        let command = try #require(try Happy.parseAsRoot(["auth", "token"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        #expect(await command.execute(in: .cliTest(home: home, console: console)) == .ok)
        #expect(screen.out == ["tok.keyless-0123456789"] && screen.err.isEmpty)
    }

    /// `status --check` with a bad server URL is a usage error before the report or any request (the test context
    /// fails on any use of the network).
    @Test func checkWithABadServerURLIsAUsageErrorFirst() async throws {
        let command = try #require(try Happy.parseAsRoot(["auth", "status", "--check"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        let context = HappyContext.cliTest(home: home, console: console, environment: ["HAPPY_SERVER_URL": "nope"])
        #expect(await command.execute(in: context) == .usage)
        #expect(screen.out.isEmpty && screen.err.count == 1)
    }

    /// The root help tells where every other command goes.
    @Test func rootHelpMentionsThePassThrough() {
        let help = Happy.helpMessage(for: Happy.self, columns: 200)
        #expect(help.contains("is handed unchanged to the full happy CLI (sessions, daemon): $HAPPY_FULL_CLI when set"))
    }
}
