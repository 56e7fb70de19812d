import Foundation
import HappyKit
import Testing

/// The real `happy` binary, no TTY, against the real local server on loopback (PROTOCOL §1, §3, §4).
@Suite("happy auth login end to end", .serialized)
struct LoginEndToEndTests {
    func environment(_ scratch: Scratch, _ server: LocalServer, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HAPPY_SERVER_URL": server.url].merging(extra) { $1 })
    }

    /// Starts a login and returns it once the approval URL is on stdout.
    func startLogin(_ scratch: Scratch, _ server: LocalServer, _ args: [String] = [], env: [String: String] = [:])
        async throws -> (Spawned, String)
    {
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile"] + args,
            environment: environment(scratch, server, env), in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        return (login, String(url))
    }

    func files(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func v1ApprovalStoresTheLegacySecretInTheTypeScriptFormat() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(scratch, server)
        #expect(try await server.approve(url, ["--v1"]) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")

        // The URL stands alone on its line; no ANSI escapes anywhere when not a TTY.
        #expect(login.stdout.split(separator: "\n").contains { $0 == url })
        #expect(!login.stdout.contains("\u{1B}") && !login.stderr.contains("\u{1B}"))
        #expect(files(in: scratch.home) == ["access.key", "settings.json"])
        #expect(try mode(scratch.home) == 0o700)
        #expect(try mode(scratch.home + "/access.key") == 0o600)
        #expect(try mode(scratch.home + "/settings.json") == 0o600)

        let text = try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8)
        let json = try JSONParser.parse(text)
        let token = try #require(json["token"]?.stringValue)
        #expect(text == "{\n  \"secret\": \"\(server.secretBase64)\",\n  \"token\": \"\(token)\"\n}")
        let settings = try String(contentsOfFile: scratch.home + "/settings.json", encoding: .utf8)
        let machineId = try #require(try JSONParser.parse(settings)["machineId"]?.stringValue)
        #expect(UUID(uuidString: machineId) != nil)
        #expect(
            settings
                == "{\n  \"schemaVersion\": 2,\n  \"onboardingCompleted\": false,\n  \"machineId\": \"\(machineId)\"\n}"
        )
        #expect(!login.stdout.contains(token) && !login.stderr.contains(token))
    }

    @Test func v2ApprovalStoresTheContentKeyAndAFreshMachineKey() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(scratch, server)
        #expect(try await server.approve(url, ["--v2"]) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")

        var master = try #require(Base64.decode(server.secretBase64))
        let contentKey = try KeyTree.contentPublicKey(masterSecret: try SecretBytes(consuming: &master))
        let text = try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8)
        let json = try JSONParser.parse(text)
        let token = try #require(json["token"]?.stringValue)
        let machineKey = try #require(json["encryption"]?["machineKey"]?.stringValue)
        #expect(Base64.decode(machineKey)?.count == 32)
        #expect(
            text == """
                {
                  "encryption": {
                    "publicKey": "\(Base64.encode(contentKey))",
                    "machineKey": "\(machineKey)"
                  },
                  "token": "\(token)"
                }
                """)

        // status: exit 0, JSON says dataKey, the whole token never shown.
        let env = environment(scratch, server)
        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env, in: scratch.path)
        #expect(status.status == 0)
        let report = try JSONParser.parse(status.stdout.trimmingCharacters(in: .newlines))
        #expect(report["loggedIn"]?.boolValue == true)
        #expect(report["credentialType"]?.stringValue == "dataKey")
        #expect(!status.stdout.contains(token))
        let human = try await Spawned.run(Binaries.happy, ["auth", "status"], environment: env, in: scratch.path)
        #expect(human.status == 0 && human.stdout.contains("Authenticated (dataKey)") && !human.stdout.contains(token))

        // A second login without --force: "Already authenticated", exit 0, files untouched.
        let again = try await Spawned.run(Binaries.happy, ["auth", "login"], environment: env, in: scratch.path)
        #expect(again.status == 0 && again.stdout.contains("Already authenticated"))
        #expect(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8) == text)

        // logout --yes: credentials and machine id gone, the empty home removed; status then exits 1.
        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env, in: scratch.path)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
        let after = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env, in: scratch.path)
        #expect(after.status == 1)
        #expect(try JSONParser.parse(after.stdout.trimmingCharacters(in: .newlines))["loggedIn"]?.boolValue == false)
    }

    @Test func pollFailuresAreRetriedUntilApproval() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(scratch, server)
        try await server.control("/_test/faults", json: #"{"failPolls": 3, "failStatus": 503, "dropPolls": 2}"#)
        try await server.waitUntilFaultsAreServed()
        #expect(try await server.approve(url) == 0)
        #expect(await login.wait(seconds: 90) == 0, "stderr: \(login.stderr)")
        #expect(login.stderr.contains("503"), "the retry was reported: \(login.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }

    @Test func nobodyApprovesTimesOutWith75AndWritesNothing() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--timeout", "2"],
            environment: environment(scratch, server), in: scratch.path)
        #expect(r.status == 75, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("no approval arrived within 2 s"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test func sigintWhileWaitingExits130AndWritesNothing() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, _) = try await startLogin(scratch, server)
        login.process.interrupt()
        #expect(await login.wait(seconds: 10) == 130)
        // Only the cancellation path says this; the 2-second `_exit(130)` fallback of the signal handler exits
        // silently, so a broken cancellation cannot pass here.
        #expect(login.stderr.contains("happy: interrupted; nothing was written."), "stderr: \(login.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test(arguments: [["--tamper"], ["--payload", "bad-version"], ["--payload", "bad-length"]])
    func aBadAnswerExits76AndWritesNothing(flags: [String]) async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (login, url) = try await startLogin(scratch, server)
        #expect(try await server.approve(url, flags) == 0)
        #expect(await login.wait() == 76, "stderr: \(login.stderr)")
        #expect(login.stderr.contains("Nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test func anUnreachableServerExits69() async throws {
        let scratch = try Scratch()
        let env = TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home])
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", "http://127.0.0.1:9"],
            environment: env, in: scratch.path)
        #expect(r.status == 69)
        #expect(r.stderr.contains("cannot reach http://127.0.0.1:9"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home))
    }

    @Test func corruptFilesAreReportedAndForceRepairsThem() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        try "{\"machineId\": ".write(toFile: scratch.home + "/settings.json", atomically: true, encoding: .utf8)
        try "not json".write(toFile: scratch.home + "/access.key", atomically: true, encoding: .utf8)
        let env = environment(scratch, server)

        // status: one clear line, exit 1, no crash.
        let status = try await Spawned.run(Binaries.happy, ["auth", "status"], environment: env, in: scratch.path)
        #expect(status.status == 1 && status.stderr.contains("access.key") && status.stderr.contains("--force"))
        // login without --force: exit 1 before any network traffic, files untouched.
        let plain = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", "http://127.0.0.1:9"],
            environment: env, in: scratch.path)
        #expect(plain.status == 1 && plain.stderr.contains("--force"), "stderr: \(plain.stderr)")
        #expect(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8) == "not json")

        // login --force: the bad settings are kept aside, a fresh login is stored.
        let (login, url) = try await startLogin(scratch, server, ["--force"])
        #expect(try await server.approve(url) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
        #expect(
            try String(contentsOfFile: scratch.home + "/settings.json.corrupt", encoding: .utf8) == "{\"machineId\": ")
        #expect(
            try JSONParser.parse(try String(contentsOfFile: scratch.home + "/settings.json", encoding: .utf8))[
                "machineId"] != nil)
        #expect(
            try JSONParser.parse(try String(contentsOfFile: scratch.home + "/access.key", encoding: .utf8))["token"]
                != nil)
    }

    /// A settings.json the TypeScript CLI wrote (JSON.stringify(settings, null, 2), no machineId yet) with keys
    /// happy does not know: the login adds the machineId as the last key and leaves every other byte, key order,
    /// number lexeme and string as it was.
    @Test func unknownSettingsKeysOfTheTypeScriptCLISurviveALogin() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        let original = #"""
            {
              "schemaVersion": 2,
              "zeta": "sorted last if anyone sorted",
              "onboardingCompleted": false,
              "profiles": [
                {
                  "id": "work",
                  "name": "Zürich ☕ 日本 👩‍💻",
                  "env": {},
                  "args": [],
                  "ratio": 1.50,
                  "big": 12345678901234567890,
                  "tiny": -0.0001e-7,
                  "nested": {
                    "list": [
                      1,
                      "two",
                      null,
                      true,
                      {
                        "quote": "say \"hi\" \\ /path"
                      }
                    ]
                  }
                }
              ],
              "alpha": null
            }
            """#
        try original.write(toFile: scratch.home + "/settings.json", atomically: true, encoding: .utf8)
        let (login, url) = try await startLogin(scratch, server)
        #expect(try await server.approve(url) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")

        let after = try String(contentsOfFile: scratch.home + "/settings.json", encoding: .utf8)
        let machineId = try #require(try JSONParser.parse(after)["machineId"]?.stringValue, "login added a machineId")
        #expect(UUID(uuidString: machineId) != nil)
        let expected = String(original.dropLast(2)) + ",\n  \"machineId\": \"\(machineId)\"\n}"
        #expect(after == expected, "every other key byte for byte, in place and order; machineId appended")
    }

    /// Two writers cannot interleave: while another process holds the home's lock, a finished login waits, says so,
    /// and writes only once the lock is released. Event-driven: the holder keeps the lock until the test writes to a
    /// FIFO, and the test releases it only after happy has said it is waiting.
    @Test func aLoginWaitsForTheHomeLock() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let (holder, release) = try await holdHomeLock(in: scratch)
        defer { holder.stopNow(SIGKILL) }

        let (login, url) = try await startLogin(scratch, server)
        #expect(try await server.approve(url) == 0)
        try await login.waitForError { $0.contains("Another happy process is writing") }
        #expect(login.process.isRunning, "the login is waiting for the lock")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"), "nothing written under the lock")

        let go = try await Spawned.run(
            "/bin/sh", ["-c", "echo go > \"$0\"", release],
            environment: TestEnvironment.clean(), in: scratch.path, seconds: 10)
        #expect(go.status == 0)
        #expect(await holder.wait(seconds: 10) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }
}
