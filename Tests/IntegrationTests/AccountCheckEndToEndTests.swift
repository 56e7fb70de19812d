import Foundation
import HappyKit
import Testing

/// `happy auth status --check` on the real binary against the real local server (PROTOCOL §7): an accepted token
/// names the account and the machine, a revoked one exits 77 with every file untouched, a closed port exits 69, and
/// plain `status` asks the server nothing at all.
@Suite("happy auth status --check end to end", .serialized)
struct AccountCheckEndToEndTests {
    func environment(_ scratch: Scratch, _ server: String) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HAPPY_SERVER_URL": server])
    }

    func loggedIn(_ scratch: Scratch, token: String) throws { try scratch.keylessLogin(token: token) }

    func status(_ arguments: [String], _ scratch: Scratch, _ server: String) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await Spawned.run(
            Binaries.happy, ["auth", "status"] + arguments, environment: environment(scratch, server), in: scratch.path)
    }

    func hostAndPort(_ url: String) -> String { String(url.dropFirst("http://".count)) }

    @Test func anAcceptedTokenNamesTheAccountAndTellsWhetherTheMachineIsRegistered() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let token = try await server.mintToken()
        try loggedIn(scratch, token: token)

        let before = try await status(["--check"], scratch, server.url)
        #expect(before.status == 0, "stderr: \(before.stderr)")
        #expect(before.stdout.contains("Authentication Status"))  // the offline report comes first
        #expect(before.stdout.contains("Server check (\(hostAndPort(server.url)))"))
        #expect(before.stdout.contains("✓ The server accepts this login (account: Ada Lovelace, GitHub @ada-happy)"))
        #expect(before.stdout.contains("✗ This machine is not registered on the account yet"))
        #expect(!before.stdout.contains(token) && !before.stderr.contains(token))

        try await server.registerMachine("m-1", token: token)
        let after = try await status(["--check", "--json"], scratch, server.url)
        #expect(after.status == 0, "stderr: \(after.stderr)")
        let json = try JSONParser.parse(after.stdout.trimmingCharacters(in: .newlines))
        #expect(json["loggedIn"]?.boolValue == true)
        #expect(
            json["check"]
                == .object([
                    ("server", .string(server.url)), ("accepted", .bool(true)),
                    (
                        "account",
                        .object([
                            ("id", .string("acct-1")), ("name", .string("Ada Lovelace")),
                            ("github", .string("ada-happy")),
                        ])
                    ),
                    ("machineRegistered", .bool(true)), ("error", .null),
                ]))
        #expect(after.stdout.split(separator: "\n").count == 1 && !after.stdout.contains(token))
        #expect(
            try await server.requestLog() == [
                "GET /v1/account/profile", "GET /v1/machines/m-1", "GET /v1/account/profile", "GET /v1/machines/m-1",
            ])
    }

    @Test func aRevokedTokenExits77AndLeavesEveryFileByteForByte() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let token = try await server.mintToken()
        try loggedIn(scratch, token: token)
        _ = try await server.controlReply("/_test/revoke", json: #"{"token": "\#(token)"}"#)
        let files = ["access.key", "settings.json"]
        let before = try files.map { try Data(contentsOf: URL(fileURLWithPath: scratch.home + "/" + $0)) }
        let beforeTimes = try files.map {
            try FileManager.default.attributesOfItem(atPath: scratch.home + "/" + $0)[.modificationDate] as? Date
        }

        let text = try await status(["--check"], scratch, server.url)
        #expect(text.status == 77, "stderr: \(text.stderr)")
        #expect(
            text.stderr
                == "happy: the server no longer accepts this login (HTTP 401); run happy auth login --force\n")
        let json = try await status(["--check", "--json"], scratch, server.url)
        #expect(json.status == 77)
        let check = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["check"]
        #expect(check?["accepted"] == .bool(false) && check?["machineRegistered"] == .null)
        #expect(check?["error"]?.stringValue?.contains("no longer accepts this login") == true)

        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.home).sorted() == files)
        #expect(try files.map { try Data(contentsOf: URL(fileURLWithPath: scratch.home + "/" + $0)) } == before)
        #expect(
            try files.map {
                try FileManager.default.attributesOfItem(atPath: scratch.home + "/" + $0)[.modificationDate] as? Date
            } == beforeTimes)
    }

    @Test func aClosedPortExits69() async throws {
        let scratch = try Scratch()
        try loggedIn(scratch, token: "tok.closed-1")
        let url = "http://127.0.0.1:\(try closedLoopbackPort())"
        let started = Date()
        let text = try await status(["--check"], scratch, url)
        #expect(text.status == 69, "stderr: \(text.stderr)")
        #expect(text.stderr.hasPrefix("happy: cannot reach \(url)"))
        #expect(text.stderr.split(separator: "\n").count == 1)
        #expect(Date().timeIntervalSince(started) < 10)
        let json = try await status(["--check", "--json", "--timeout", "5"], scratch, url)
        #expect(json.status == 69)
        let check = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["check"]
        #expect(check?["accepted"] == .null && check?["error"]?.stringValue?.contains("cannot reach") == true)
    }

    /// Plain `status` (the fast path and the parsed path alike) is offline: the server's log stays empty, while the
    /// same home with `--check` does reach it (so the log would show a request).
    @Test func plainStatusAsksTheServerNothing() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        try loggedIn(scratch, token: try await server.mintToken())
        for arguments in [[], ["--json"], ["--debug"]] {
            let run = try await status(arguments, scratch, server.url)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
        }
        #expect(try await server.requestLog() == [])
        #expect(try await status(["--check"], scratch, server.url).status == 0)
        #expect(try await server.requestLog().count == 2)
    }

    @Test func checkFlagsWithoutCheckAreAUsageError() async throws {
        let scratch = try Scratch()
        for arguments in [["--server", "http://127.0.0.1:1"], ["--ca", "x.pem"], ["--timeout", "3"]] {
            let run = try await status(arguments, scratch, "http://127.0.0.1:1")
            #expect(run.status == 64, "\(arguments)")
            #expect(run.stderr.contains("apply to --check only"))
        }
        let notLoggedIn = try await status(["--check", "--json"], scratch, "http://127.0.0.1:1")
        #expect(notLoggedIn.status == 1)  // nothing to check, and nothing asked
        let check = try JSONParser.parse(notLoggedIn.stdout.trimmingCharacters(in: .newlines))["check"]
        #expect(check?["error"] == .string("not logged in") && check?["accepted"] == .null)
    }
}
