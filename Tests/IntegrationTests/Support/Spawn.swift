import Foundation
import HappyTestSupport
import Testing

/// The directory holding the built `happy` and `happy-test-server` (beside the test bundle), or $HAPPY_BIN_DIR.
enum Binaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["HAPPY_BIN_DIR"] { return dir }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    }()
    static var happy: String { directory + "/happy" }
    static var server: String { directory + "/happy-test-server" }
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }
}

/// A spawned process with stdout and stderr captured to files (no pipes to fill up), no TTY, stdin /dev/null.
final class Spawned: @unchecked Sendable {
    let process = Process()
    let outPath: String
    let errPath: String

    init(_ executable: String, _ arguments: [String], environment: [String: String], in dir: String) throws {
        let id = UUID().uuidString.prefix(8)
        outPath = "\(dir)/out-\(id)"
        errPath = "\(dir)/err-\(id)"
        for path in [outPath, errPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    /// A process never outlives the test that spawned it: one still running when its last reference goes (a test
    /// that threw before waiting for it) is killed and reaped here.
    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Ends the process before the caller returns (usable in `defer`): sends `signal`, then waits for the exit.
    func stopNow(_ signal: Int32 = SIGTERM) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for exit; kills and records an issue on overrun. Returns the exit status.
    @discardableResult
    func wait(seconds: Double = 60) async -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("process \(process.arguments ?? []) did not exit in \(seconds) s; stderr: \(stderr)")
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Polls until `predicate(stdout)` holds.
    func waitForOutput(seconds: Double = 20, _ predicate: (String) -> Bool) async throws {
        try await waitFor(seconds: seconds) { predicate($0.stdout) }
    }

    /// Polls until `predicate(stderr)` holds.
    func waitForErrorOutput(seconds: Double = 20, _ predicate: (String) -> Bool) async throws {
        try await waitFor(seconds: seconds) { predicate($0.stderr) }
    }

    private func waitFor(seconds: Double, _ predicate: (Spawned) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !predicate(self) {
            guard process.isRunning else {
                if predicate(self) { return }  // it printed, then exited, between the two checks
                throw SpawnError.exited(stdout: stdout, stderr: stderr)
            }
            guard Date() < deadline else { throw SpawnError.timedOut(stdout: stdout, stderr: stderr) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Polls until `predicate(stderr)` holds.
    func waitForError(seconds: Double = 20, _ predicate: (String) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !predicate(stderr) {
            guard process.isRunning else { throw SpawnError.exited(stdout: stdout, stderr: stderr) }
            guard Date() < deadline else { throw SpawnError.timedOut(stdout: stdout, stderr: stderr) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs a command to completion.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], in dir: String,
        seconds: Double = 60
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try Spawned(executable, arguments, environment: environment, in: dir)
        let status = await p.wait(seconds: seconds)
        return (status, p.stdout, p.stderr)
    }
}

enum SpawnError: Error { case exited(stdout: String, stderr: String), timedOut(stdout: String, stderr: String) }

/// A scratch directory for one test, removed afterwards.
final class Scratch: @unchecked Sendable {
    private let directory = TemporaryDirectory(prefix: "happy-e2e")
    var path: String { directory.path }
    init() throws {}
    var home: String { path + "/home" }

    /// `home` as a legacy login left it (files only, no server): token `tok.en`, machine id `m-1`.
    func legacyLoggedInHome() throws -> String {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try #"{"secret": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "token": "tok.en"}"#
            .write(toFile: home + "/access.key", atomically: true, encoding: .utf8)
        try "{\n  \"machineId\": \"m-1\"\n}".write(toFile: home + "/settings.json", atomically: true, encoding: .utf8)
        return home
    }
}

/// What this machine lets the tests do, probed once, for `.enabled(if:)`: a test that cannot run here is reported as
/// skipped with its reason, never as passed. A missing tool is not a reason to skip (`make test` installs it): the
/// probe then says yes and the test fails in `requireTool`, naming the package.
enum Probe {
    /// Whether strace may trace (ptrace can be forbidden in containers).
    static let ptracePermitted = succeeds("/usr/bin/strace", ["-qq", "-o", "/dev/null", "/bin/true"])
    /// Whether mounts can be made (root with CAP_SYS_ADMIN, outside restrictive containers): a private mount
    /// namespace, a tmpfs and a bind mount in it.
    static let mountPermitted = succeeds(
        "/usr/bin/unshare",
        [
            "-m", "--propagation", "private", "/bin/sh", "-c",
            "mount -t tmpfs tmpfs /tmp && mount --bind /dev/null /dev/null",
        ])

    private static func succeeds(_ tool: String, _ arguments: [String]) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: tool) else { return true }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// The first child of `pid` (strace's tracee), from /proc; waits up to 2 s for it to appear.
func child(of pid: Int32) -> Int32? {
    for _ in 0..<200 {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
            let first = text.split(separator: " ").first,
            let child = Int32(first.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return child
        }
        usleep(10_000)
    }
    return nil
}

/// `happy` with `arguments` under `strace -f`, recording only the system calls `calls` names (`trace=…`): the run,
/// and the recorded calls one per line (exits and signals left out). Tests using it are
/// `.enabled(if: Probe.ptracePermitted)`.
func happyUnderStrace(_ arguments: [String], calls: String, environment: [String: String], in scratch: Scratch)
    async throws -> (run: (status: Int32, stdout: String, stderr: String), calls: [String])
{
    let trace = scratch.path + "/strace-" + UUID().uuidString
    let run = try await Spawned.run(
        "/usr/bin/strace", ["-f", "-qq", "-o", trace, "-e", calls, Binaries.happy] + arguments,
        environment: environment, in: scratch.path)
    let recorded = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        .filter { !$0.contains("+++") && !$0.contains("---") }
    return (run, recorded)
}

/// Another process holding `scratch.home`'s lock, as a second happy would: one shell takes it on its own descriptor
/// (flock(1) only takes it), says so, and keeps it until a line is written to the `release` FIFO or it is killed
/// (callers `defer { holder.stopNow(SIGKILL) }`). Returns once the lock is held.
func holdHomeLock(in scratch: Scratch) async throws -> (holder: Spawned, release: String) {
    try requireTool("/usr/bin/flock", package: "util-linux")
    try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
    let release = scratch.path + "/release"
    guard mkfifo(release, 0o600) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: release])
    }
    let holder = try Spawned(
        "/bin/sh", ["-c", "exec 9<\"$0\" && flock 9 && echo locked && read line < \"$1\"", scratch.home, release],
        environment: TestEnvironment.clean(), in: scratch.path)
    do {
        try await holder.waitForOutput { $0.contains("locked") }
    } catch {
        holder.stopNow(SIGKILL)
        throw error
    }
    return (holder, release)
}
