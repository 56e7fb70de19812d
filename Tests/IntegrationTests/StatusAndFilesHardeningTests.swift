import Foundation
import HappyKit
import Testing

/// Issue 18, items 5–7 with the real binary: a huge settings lock and a settings.json of many keys stay cheap,
/// status is honest about URLs login would refuse (and never prints a password), and a report or version that
/// cannot be written to stdout is exit 74, not 0.
@Suite("status, the settings lock and stdout against hostile files and streams")
struct StatusAndFilesHardeningTests {
    func environment(_ scratch: Scratch, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HOME": scratch.path].merging(extra) { $1 })
    }

    /// `happy` with its stdout on `stdout` (a path, opened for writing) or closed (nil); stderr captured.
    func runWithStdout(_ stdout: String?, _ arguments: [String], _ scratch: Scratch) async throws -> (
        status: Int32, stderr: String
    ) {
        let redirect = stdout.map { "> '\($0)'" } ?? ">&-"
        let run = try await Spawned.run(
            "/bin/sh", ["-c", "exec \"$0\" \"$@\" \(redirect)", Binaries.happy] + arguments,
            environment: environment(scratch), in: scratch.path)
        return (run.status, run.stderr)
    }

    // MARK: Item 5

    /// A 64 MiB `settings.json.lock` (not a pid, so a lock to wait for) is never read whole: logout waits its 5 s
    /// deadline and gives up with one line, in bounded time and memory.
    @Test func aHugeSettingsLockCostsNeitherTimeNorMemory() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        let lock = home + "/settings.json.lock"
        let fd = open(lock, O_CREAT | O_WRONLY, 0o600)
        #expect(fd >= 0)
        let block = [UInt8](repeating: UInt8(ascii: "7"), count: 1 << 20)
        for _ in 0..<64 { _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        close(fd)
        let started = Date()
        let logout = try Spawned(
            Binaries.happy, ["auth", "logout", "--yes"], environment: environment(scratch), in: scratch.path)
        var peakKiB = 0
        while logout.process.isRunning {
            if let status = try? String(
                contentsOfFile: "/proc/\(logout.process.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                peakKiB = max(peakKiB, kib)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let status = await logout.wait(seconds: 30)
        let took = Date().timeIntervalSince(started)
        #expect(status == 1, "stderr: \(logout.stderr)")
        #expect(logout.stderr.contains("not released within 5 s"), "stderr: \(logout.stderr)")
        #expect(took < 20, "logout took \(took) s")  // 5 s and start-up; loose for a loaded machine
        #expect(peakKiB < 48 * 1024, "peak RSS \(peakKiB) KiB: the lock was read whole")
        #expect(FileManager.default.fileExists(atPath: home + "/access.key"), "nothing changed")
    }

    /// A 1 MiB settings.json of distinct keys: status reads it in well under a second (the parser indexes keys).
    @Test func statusReadsAOneMebibyteSettingsFileOfManyKeysQuickly() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        var text = "{\"machineId\": \"m-1\""
        var n = 0
        while text.utf8.count < (1 << 20) - 64 {
            text += ",\"k\(n)\":\(n)"
            n += 1
        }
        text += "}"
        try text.write(toFile: home + "/settings.json", atomically: true, encoding: .utf8)
        let started = Date()
        let run = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: environment(scratch), in: scratch.path)
        let took = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("\"machineId\":\"m-1\""))
        // The debug binary parses about 20 times slower than the release one (which takes milliseconds); the
        // quadratic parser took 8 s in release. JSONTests checks the growth is linear.
        #expect(took < 15, "status took \(took) s for \(n) keys")
    }

    // MARK: Item 6

    /// A password in the server URL is never printed; a URL login would refuse is shown as invalid with the reason,
    /// in text and JSON.
    @Test func statusRedactsPasswordsAndMarksURLsLoginWouldRefuse() async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        try #"{"machineId": "m-1", "serverUrl": "https://ada:hunter2@happy.example.com/api"}"#
            .write(toFile: home + "/settings.json", atomically: true, encoding: .utf8)
        let env = environment(scratch, ["HAPPY_WEBAPP_URL": "javascript:alert(1)"])
        let text = try await Spawned.run(Binaries.happy, ["auth", "status"], environment: env, in: scratch.path)
        #expect(text.status == 0)
        #expect(!(text.stdout + text.stderr).contains("hunter2"), "\(text.stdout)")
        let server = try #require(text.stdout.split(separator: "\n").first { $0.contains("Server:") })
        #expect(server.contains("https://***@happy.example.com/api"), "\(server)")
        #expect(server.contains("invalid") && server.contains("user name or password"), "\(server)")
        let webapp = try #require(text.stdout.split(separator: "\n").first { $0.contains("Web app:") })
        #expect(webapp.contains("invalid") && webapp.contains("http:// or https://"), "\(webapp)")

        let json = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"], environment: env, in: scratch.path)
        #expect(!json.stdout.contains("hunter2"))
        let report = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))
        #expect(report["server"]?["url"]?.stringValue == "https://***@happy.example.com/api")
        #expect(report["server"]?["valid"] == .bool(false))
        #expect(report["server"]?["problem"]?.stringValue?.contains("user name or password") == true)
        #expect(report["webapp"]?["valid"] == .bool(false))
        #expect(report["webapp"]?["source"]?.stringValue == "environment")
    }

    // MARK: Item 7

    @Test(arguments: [["auth", "status"], ["auth", "status", "--json"], ["--version"]])
    func aReportThatCannotBeWrittenIsExit74(arguments: [String]) async throws {
        let scratch = try Scratch()
        _ = try scratch.legacyLoggedInHome()
        let full = try await runWithStdout("/dev/full", arguments, scratch)
        #expect(full.status == 74, "\(arguments) into /dev/full: \(full)")
        #expect(full.stderr.contains("cannot write to standard output"), "\(full.stderr)")
        #expect(full.stderr.split(separator: "\n").filter { $0.contains("standard output") }.count == 1)
        let closed = try await runWithStdout(nil, arguments, scratch)
        #expect(closed.status == 74, "\(arguments) with stdout closed: \(closed)")
        #expect(closed.stderr.contains("cannot write to standard output"), "\(closed.stderr)")
    }

    /// A not-logged-in status into /dev/full is 74 too (the script learns nothing either way).
    @Test func aLoggedOutStatusIntoDevFullIsExit74() async throws {
        let scratch = try Scratch()
        let full = try await runWithStdout("/dev/full", ["auth", "status"], scratch)
        #expect(full.status == 74, "\(full)")
    }
}

/// Issue 18, item 8 with the real binary: a FIFO or a directory at access.key gets a message about its type, not its
/// mode; an https:// proxy is refused in one line before any connection.
@Suite("file types and proxies")
struct FileTypeAndProxyHardeningTests {
    @Test(arguments: ["fifo", "directory"])
    func aStrangeAccessKeyGetsATypeMessage(kind: String) async throws {
        let scratch = try Scratch()
        let home = try scratch.legacyLoggedInHome()
        unlink(home + "/access.key")
        if kind == "fifo" {
            #expect(mkfifo(home + "/access.key", 0o644) == 0)
        } else {
            try FileManager.default.createDirectory(atPath: home + "/access.key", withIntermediateDirectories: false)
            chmod(home + "/access.key", 0o755)
        }
        let run = try await Spawned.run(
            Binaries.happy, ["auth", "status"],
            environment: TestEnvironment.clean(["HAPPY_HOME_DIR": home, "HOME": scratch.path]), in: scratch.path,
            seconds: 10)
        let name = kind == "fifo" ? "a FIFO" : "a directory"
        #expect(run.stderr.contains("access.key is \(name), not a regular file"), "\(run.stderr)")
        #expect(!run.stderr.contains("readable by group or others"), "\(run.stderr)")
    }

    @Test func anHTTPSProxyIsRefusedInOneLine() async throws {
        let scratch = try Scratch()
        let run = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", "https://127.0.0.1:9", "--no-browser", "--method", "web"],
            environment: TestEnvironment.clean([
                "HAPPY_HOME_DIR": scratch.home, "HOME": scratch.path, "HTTPS_PROXY": "https://ada:hunter2@127.0.0.1:9",
            ]), in: scratch.path, seconds: 20)
        #expect(run.status == 64, "\(run)")
        #expect(run.stderr.contains("only http:// proxies are supported"), "\(run.stderr)")
        #expect(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"))
        #expect(run.stderr.split(separator: "\n").filter { $0.contains("proxies") }.count == 1, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
    }
}
