import Foundation
import HappyKit
import Testing

/// settings.json side by side with the TypeScript CLI (PROTOCOL §3), with the real `happy` binary against the local
/// server: a self-hosted server named only in settings.json, and `settings.json.lock` held by another real process
/// exactly as the TypeScript CLI's `updateSettings` holds it.
@Suite("settings.json and its lock, side by side with the TypeScript CLI, end to end", .serialized)
struct SettingsEndToEndTests {
    /// The runner's environment without anything that names a server, a web app or a proxy.
    func environment(home: String, _ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in [
            "HAPPY_SERVER_URL", "HAPPY_WEBAPP_URL", "HAPPY_DEBUG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
            "http_proxy", "ALL_PROXY", "all_proxy",
        ] { env.removeValue(forKey: key) }
        env["HAPPY_HOME_DIR"] = home
        for (k, v) in extra { env[k] = v }
        return env
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A login approved by the local server's phone; returns it once it has exited.
    func approvedLogin(_ scratch: Scratch, _ server: LocalServer, env: [String: String]) async throws -> Spawned {
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "60"],
            environment: env, in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        #expect(try await server.approve(String(url)) == 0)
        await login.wait()
        return login
    }

    @Test func aLoginReachesTheServerNamedOnlyInSettings() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let original = """
            {
              "schemaVersion": 2,
              "onboardingCompleted": true,
              "serverUrl": "\(server.url)",
              "webappUrl": "http://127.0.0.1:9/selfhosted/"
            }
            """
        try write(original, scratch.home + "/settings.json")
        let env = environment(home: scratch.home)

        // The web method shows the web app named in settings.json; the server in settings.json is the one polled.
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "web", "--no-browser", "--timeout", "60"],
            environment: env, in: scratch.path)
        try await login.waitForOutput { $0.contains("#key=") }
        let link = try #require(login.stdout.split(separator: "\n").first { $0.contains("#key=") })
        #expect(link.hasPrefix("http://127.0.0.1:9/selfhosted/terminal/connect#key="), "\(link)")
        #expect(try await server.approve(String(link)) == 0)
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")

        let settings = try #require(read(scratch.home + "/settings.json"))
        let machineId = try #require(try JSONParser.parse(settings)["machineId"]?.stringValue)
        #expect(
            settings == String(original.dropLast(2)) + ",\n  \"machineId\": \"\(machineId)\"\n}",
            "every key kept, in order; the machine id added last")

        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env, in: scratch.path)
        #expect(status.status == 0)
        let report = try JSONParser.parse(status.stdout.trimmingCharacters(in: .newlines))
        #expect(
            report["server"]
                == .object([("url", .string(server.url)), ("source", .string("settings")), ("valid", .bool(true))]))
        let text = try await Spawned.run(Binaries.happy, ["auth", "status"], environment: env, in: scratch.path)
        #expect(text.stdout.contains("Server: \(server.url) (from serverUrl in settings.json)"), "\(text.stdout)")
        let overridden = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"],
            environment: environment(home: scratch.home, ["HAPPY_SERVER_URL": "http://127.0.0.1:9"]),
            in: scratch.path)
        #expect(
            try JSONParser.parse(overridden.stdout.trimmingCharacters(in: .newlines))["server"]?["source"]
                == .string("environment"))
    }

    /// PROTOCOL §3: a settings.json happy creates is the TypeScript CLI's, byte for byte, with no final newline.
    @Test func aFreshSettingsFileIsByteIdenticalToTheTypeScriptCLIs() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await approvedLogin(
            scratch, server, env: environment(home: scratch.home, ["HAPPY_SERVER_URL": server.url]))
        #expect(login.process.terminationStatus == 0, "stderr: \(login.stderr)")
        let settings = try #require(read(scratch.home + "/settings.json"))
        let machineId = try #require(try JSONParser.parse(settings)["machineId"]?.stringValue)
        #expect(
            settings
                == "{\n  \"schemaVersion\": 2,\n  \"onboardingCompleted\": false,\n  \"machineId\": \"\(machineId)\"\n}"
        )
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/settings.json.lock"))
    }

    /// Another process holds `settings.json.lock` as the TypeScript CLI does (created O_CREAT|O_EXCL|O_WRONLY — what
    /// sh's `set -C` does — with its pid inside) and updates settings.json under it. happy waits, writes nothing
    /// meanwhile, then writes after the holder's release, keeping the holder's change.
    @Test func aLoginWaitsForTheSettingsLockAndKeepsTheHoldersChange() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        let release = scratch.path + "/release"
        let script = """
            set -e -C
            echo $$ > "$1/settings.json.lock"
            echo locked
            while [ ! -e "$2" ]; do sleep 0.02; done
            [ "$(cat "$1/settings.json.lock")" = "$$" ] || exit 4   # still ours: nobody took it meanwhile
            printf '{\\n  "schemaVersion": 2,\\n  "onboardingCompleted": true,\\n  "holder": "kept"\\n}' > "$1/settings.json.tmp"
            mv "$1/settings.json.tmp" "$1/settings.json"
            rm "$1/settings.json.lock"
            """
        let holder = try Spawned(
            "/bin/sh", ["-c", script, "holder", scratch.home, release],
            environment: ["PATH": "/usr/bin:/bin"], in: scratch.path)
        try await holder.waitForOutput { $0.contains("locked") }

        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "60"],
            environment: environment(home: scratch.home, ["HAPPY_SERVER_URL": server.url]), in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        #expect(try await server.approve(String(url)) == 0)
        try await login.waitForErrorOutput { $0.contains("settings.json.lock); waiting up to 5 s") }
        let holderPid = holder.process.processIdentifier
        #expect(login.stderr.contains("(pid \(holderPid))"), "stderr: \(login.stderr)")
        // For a second (ten of happy's retries) the live holder's lock stays its own and nothing is written.
        let window = Date().addingTimeInterval(1)
        while Date() < window {
            #expect(
                read(scratch.home + "/settings.json.lock")?.hasPrefix("\(holderPid)") == true, "the lock was taken away"
            )
            #expect(
                !FileManager.default.fileExists(atPath: scratch.home + "/access.key"), "nothing written while waiting")
            #expect(!FileManager.default.fileExists(atPath: scratch.home + "/settings.json"))
            try await Task.sleep(for: .milliseconds(50))
        }

        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        #expect(await holder.wait() == 0, "holder: \(holder.stderr)")
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")
        let settings = try #require(read(scratch.home + "/settings.json"))
        let machineId = try #require(try JSONParser.parse(settings)["machineId"]?.stringValue)
        #expect(
            settings == """
                {
                  "schemaVersion": 2,
                  "onboardingCompleted": true,
                  "holder": "kept",
                  "machineId": "\(machineId)"
                }
                """)
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/settings.json.lock"))
    }

    /// A lock left behind by a crash (mtime older than 10 s, empty as the TypeScript CLI leaves it) is removed.
    @Test func aLockOlderThanTenSecondsIsRemoved() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let lock = scratch.home + "/settings.json.lock"
        try write("", lock)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-11)], ofItemAtPath: lock)
        let login = try await approvedLogin(
            scratch, server, env: environment(home: scratch.home, ["HAPPY_SERVER_URL": server.url]))
        #expect(login.process.terminationStatus == 0, "stderr: \(login.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        #expect(!FileManager.default.fileExists(atPath: lock))
    }

    /// Our own style of lock (a pid inside) whose process is gone is stale at once.
    @Test func aLockHoldingADeadPidIsRemoved() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let gone = try Spawned("/bin/true", [], environment: [:], in: scratch.path)
        #expect(await gone.wait() == 0)
        try write("\(gone.process.processIdentifier)", scratch.home + "/settings.json.lock")
        let login = try await approvedLogin(
            scratch, server, env: environment(home: scratch.home, ["HAPPY_SERVER_URL": server.url]))
        #expect(login.process.terminationStatus == 0, "stderr: \(login.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/settings.json.lock"))
    }

    /// An empty, young lock is the TypeScript CLI's normal lock: waited for, never deleted. Never released, the login
    /// gives up after 5 s with one clear line and writes nothing.
    @Test func aYoungEmptyLockIsWaitedForAndNeverReleasedWritesNothing() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let original = "{\n  \"schemaVersion\": 2,\n  \"onboardingCompleted\": true\n}"
        try write(original, scratch.home + "/settings.json")
        try write("", scratch.home + "/settings.json.lock")
        let started = Date()
        let login = try await approvedLogin(
            scratch, server, env: environment(home: scratch.home, ["HAPPY_SERVER_URL": server.url]))
        #expect(login.process.terminationStatus == 1, "stderr: \(login.stderr)")
        let lines = login.stderr.split(separator: "\n")
        #expect(
            lines.contains {
                $0.hasPrefix("happy: settings.json is locked by another program")
                    && $0.contains("within 5 s, so nothing was changed")
            },
            "stderr: \(login.stderr)")
        #expect(Date().timeIntervalSince(started) >= 5, "it waited the TypeScript CLI's 5 s")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        #expect(read(scratch.home + "/settings.json") == original)
        #expect(read(scratch.home + "/settings.json.lock") == "", "the other program's lock is left alone")
    }
}
