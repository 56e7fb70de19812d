import ArgumentParser
import Foundation
import HappyKit
import Testing

@testable import HappyCLI

/// Every subcommand through the real parser: flag declarations, `validate()` combinations (exit 64), and
/// `execute(in:)` against a test context.
@Suite struct CommandTests {
    let directory = TemporaryDirectory()
    var home: String { directory.path + "/home" }

    private func parse<T: ParsableCommand>(
        _ arguments: [String], as type: T.Type,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> T {
        let command = try Happy.parseAsRoot(arguments)
        return try #require(command as? T, "parsed as \(Swift.type(of: command))", sourceLocation: sourceLocation)
    }

    // MARK: parsing

    @Test func parsesLoginDefaults() throws {
        let login = try parse(["auth", "login"], as: Happy.Auth.Login.self)
        #expect(login.method == nil && !login.force && !login.noBrowser && login.timeout == 300 && !login.invertQr)
        #expect(login.cert == nil && login.key == nil && login.certPasswordFile == nil)
        #expect(login.serverOptions.server == nil && login.serverOptions.ca == nil && !login.serverOptions.debug)
    }

    @Test func parsesEveryLoginFlag() throws {
        let login = try parse(
            [
                "auth", "login", "--method", "web", "--force", "--no-browser", "--timeout", "60",
                "--invert-qr", "--server", "https://happy.example.test", "--ca", "ca.pem", "--debug",
            ],
            as: Happy.Auth.Login.self)
        #expect(login.method == .web && login.force && login.noBrowser && login.timeout == 60 && login.invertQr)
        #expect(
            login.serverOptions.server?.string == "https://happy.example.test" && login.serverOptions.ca == "ca.pem")
        #expect(login.wantsDebug)
    }

    @Test func parsesCertificateLogin() throws {
        let login = try parse(
            ["auth", "login", "--cert", "me.pem", "--key", "me.key", "--cert-password-file", "pw.txt"],
            as: Happy.Auth.Login.self)
        #expect(login.cert?.source(key: login.key, module: nil) == .file(certificate: "me.pem", key: "me.key"))
        #expect(login.key == "me.key" && login.certPasswordFile == "pw.txt")
        #expect(login.method == nil)
    }

    @Test func parsesStatus() throws {
        #expect(try parse(["auth", "status"], as: Happy.Auth.Status.self).json == false)
        #expect(try parse(["auth", "status", "--json"], as: Happy.Auth.Status.self).json == true)
    }

    /// `Entry` answers these two lines without the parser: they must mean to it what they mean to the parser, and
    /// every other spelling (help, repeats, typos, extra words, `--`) must be left to the parser.
    @Test func theStatusFastPathTakesOnlyLinesTheParserReadsAlike() throws {
        for (arguments, json) in [(["auth", "status"], false), (["auth", "status", "--json"], true)] {
            #expect(Happy.Auth.Status.fastPath(arguments[...]) == json)
            #expect(try parse(arguments, as: Happy.Auth.Status.self).json == json)
        }
        let others: [[String]] = [
            [], ["auth"], ["status"], ["--version"], ["--help"], ["auth", "login"], ["auth", "status", "--help"],
            ["auth", "status", "-h"], ["auth", "status", "--json", "--json"], ["auth", "status", "json"],
            ["auth", "status", "--json", "x"], ["auth", "status", "--jso"], ["auth", "status", "--"],
            ["auth", "status", "--JSON"], ["auth", "status", "--json=true"], ["auth", "Status"], ["status", "auth"],
        ]
        for arguments in others {
            #expect(Happy.Auth.Status.fastPath(arguments[...]) == nil, "\(arguments)")
        }
        // Entry prints `Happy.configuration.version` for `--version` itself: the parser prints the same.
        #expect(Happy.configuration.version == HappyVersion.current)
        do {
            _ = try Happy.parseAsRoot(["--version"])
            Issue.record("--version parsed as a command")
        } catch {
            #expect(Happy.fullMessage(for: error) == Happy.configuration.version)
        }
        // Through `dropFirst()`, as Entry passes CommandLine.arguments: a slice that does not start at index 0.
        #expect(Happy.Auth.Status.fastPath(["happy", "auth", "status", "--json"].dropFirst()) == true)
    }

    @Test(arguments: [["auth", "logout", "--yes"], ["auth", "logout", "-y"]])
    func parsesLogout(arguments: [String]) throws {
        #expect(try parse(arguments, as: Happy.Auth.Logout.self).yes)
        #expect(try parse(["auth", "logout"], as: Happy.Auth.Logout.self).yes == false)
    }

    @Test func parsesApprove() throws {
        let approve = try parse(
            ["auth", "approve", "happy://terminal?abc", "--server", "http://127.0.0.1:3005"],
            as: Happy.Auth.Approve.self)
        #expect(approve.url == "happy://terminal?abc")
        #expect(approve.serverOptions.server?.string == "http://127.0.0.1:3005")
    }

    @Test func everyLeafCommandSharesTheSeam() throws {
        for arguments in [["auth", "login"], ["auth", "status"], ["auth", "logout"], ["auth", "approve", "x"]] {
            #expect(try Happy.parseAsRoot(arguments) is any HappyCommand, "\(arguments)")
        }
    }

    @Test func printsTheVersion() {
        let error = #expect(throws: (any Error).self) { try Happy.parseAsRoot(["--version"]) }
        #expect(error.map { Happy.message(for: $0) } == HappyVersion.current)
        #expect(error.map { Happy.exitCode(for: $0) } == .success)
    }

    // MARK: validation: exit 64

    @Test(
        arguments: [
            (["auth", "login", "--key", "k.pem"], "--key needs --cert"),
            (["auth", "login", "--cert-password-file", "pw"], "--cert-password-file needs --cert"),
            (["auth", "login", "--timeout", "0"], "--timeout must be between 1 and 604800 seconds"),
            (["auth", "login", "--timeout=-5"], "--timeout must be between 1 and 604800 seconds"),
            (
                ["auth", "login", "--cert", "c.pem", "--method", "mobile"],
                "--method applies to the QR, web and browser-certificate logins, not to --cert"
            ),
            (["auth", "login", "--server", "ftp://happy.test"], "--server must be an http:// or https:// URL"),
            (["auth", "login", "--server", "happy.test"], "--server must be an http:// or https:// URL"),
            (["auth", "approve", "x", "--server", "ws://happy.test"], "--server must be an http:// or https:// URL"),
            (["auth", "login", "--method", "carrier-pigeon"], "carrier-pigeon"),
            (["auth", "login", "--timeout", "soon"], "soon"),
            (["auth", "status", "--verbose"], "--verbose"),
            (["auth", "approve"], "url"),
            (["auth", "frobnicate"], "frobnicate"),
        ] as [([String], String)])
    func rejectsBadFlagsWithUsageExit(arguments: [String], message: String) {
        let error = #expect(throws: (any Error).self) { try Happy.parseAsRoot(arguments) }
        guard let error else { return }
        #expect(Happy.exitCode(for: error).rawValue == HappyKit.ExitStatus.usage.rawValue)
        #expect(Happy.message(for: error).contains(message), "\(Happy.message(for: error))")
    }

    // MARK: execute(in:)

    @Test func statusJSONWhenNotLoggedInExitsOneWithOneJSONLine() async throws {
        let command = try #require(try Happy.parseAsRoot(["auth", "status", "--json"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        let status = await command.execute(in: .cliTest(home: home, console: console))
        #expect(status == .failure)
        #expect(screen.out.count == 1)
        let json = try JSONParser.parse(try #require(screen.out.first))
        #expect(json["loggedIn"] == .bool(false))
        #expect(json["host"] == .string("test-host"))
        #expect(json["dataDirectory"] == .string(home))
        #expect(screen.err.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home))
    }

    @Test func statusWhenLoggedInExitsZero() async throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try Data("{\n  \"token\": \"tok.keyless-0123456789\"\n}".utf8).write(
            to: URL(fileURLWithPath: home + "/access.key"))
        let command = try #require(try Happy.parseAsRoot(["auth", "status", "--json"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        #expect(await command.execute(in: .cliTest(home: home, console: console)) == .ok)
        let json = try JSONParser.parse(try #require(screen.out.first))
        #expect(json["loggedIn"] == .bool(true))
        #expect(json["credentialType"] == .string("keyless"))
        #expect(!(screen.out + screen.err).joined().contains("tok.keyless-0123456789"))
    }

    @Test func statusTextWhenNotLoggedIn() async throws {
        let command = try #require(try Happy.parseAsRoot(["auth", "status"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        #expect(await command.execute(in: .cliTest(home: home, console: console)) == .failure)
        #expect(screen.out.contains("✗ Not authenticated"))
    }

    @Test func logoutWithoutYesOffATerminalIsAUsageError() async throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try Data("{\"token\": \"t\"}".utf8).write(to: URL(fileURLWithPath: home + "/access.key"))
        let command = try #require(try Happy.parseAsRoot(["auth", "logout"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        #expect(await command.execute(in: .cliTest(home: home, console: console)) == .usage)
        #expect(screen.err == ["happy: logout needs confirmation; run it in a terminal or pass --yes"])
        #expect(FileManager.default.fileExists(atPath: home + "/access.key"))
    }

    @Test func approveOfABadURLIsAUsageErrorBeforeAnyNetwork() async throws {
        let command = try #require(
            try Happy.parseAsRoot(["auth", "approve", "happy://elsewhere?x"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        #expect(await command.execute(in: .cliTest(home: home, console: console)) == .usage)
        #expect(screen.err.first?.hasPrefix("happy: expected the happy://terminal?… URL") == true)
    }

    @Test func loginWhenAlreadyLoggedInNeedsNoNetwork() async throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try Data("{\"token\": \"t\"}".utf8).write(to: URL(fileURLWithPath: home + "/access.key"))
        let command = try #require(try Happy.parseAsRoot(["auth", "login"]) as? any HappyCommand)
        let (console, screen) = Console.recording()
        #expect(await command.execute(in: .cliTest(home: home, console: console)) == .ok)
        #expect(screen.out.first == "✓ Already authenticated")
    }
}
