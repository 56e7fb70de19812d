import Foundation
import Testing

/// scripts/test-support/hostile-server.py: a real socket server that misbehaves on purpose (trickles, closes
/// during the handshake, sends huge bodies or numbers, answers Retry-After: 0).
final class HostileServer: @unchecked Sendable {
    let spawned: Spawned
    let port: Int
    let scratch: Scratch
    var logPath: String { scratch.path + "/requests.log" }
    /// Request lines received so far.
    var requests: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    init(_ mode: String) async throws {
        scratch = try Scratch()
        spawned = try Spawned(
            "/usr/bin/env",
            [
                "python3", Binaries.repositoryRoot + "/scripts/test-support/hostile-server.py",
                mode, "--log", scratch.path + "/requests.log",
            ],
            environment: TestEnvironment.clean(), in: scratch.path)
        try await spawned.waitForOutput { $0.contains("\n") }
        port = try #require(Int(spawned.stdout.split(separator: "\n").first ?? ""))
    }

    var httpURL: String { "http://127.0.0.1:\(port)" }
    var httpsURL: String { "https://127.0.0.1:\(port)" }

    func stopNow() {
        guard spawned.process.isRunning else { return }
        kill(spawned.process.processIdentifier, SIGKILL)
        spawned.process.waitUntilExit()
    }
}

/// scripts/test-support/daemon-standin.py: a process that plays the TypeScript happy daemon of a home (its command
/// line says `daemon start-sync`; it holds `daemon.state.json.lock` open and serves `/stop`).
final class DaemonStandIn: @unchecked Sendable {
    let spawned: Spawned
    let port: Int
    var pid: Int32 { spawned.process.processIdentifier }
    var isRunning: Bool { kill(pid, 0) == 0 && !isZombie }

    init(home: String, in scratch: Scratch, _ flags: [String] = []) async throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        spawned = try Spawned(
            "/usr/bin/env",
            [
                "python3", Binaries.repositoryRoot + "/scripts/test-support/daemon-standin.py",
                "daemon", "start-sync", "--home", home,
            ] + flags,
            environment: TestEnvironment.clean(), in: scratch.path)
        try await spawned.waitForOutput { $0.contains("ready ") }
        let line = try #require(spawned.stdout.split(separator: "\n").first { $0.hasPrefix("ready ") })
        port = try #require(Int(line.dropFirst("ready ".count)))
    }

    /// A killed child stays a zombie until reaped; it no longer runs.
    private var isZombie: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    func stopNow() {
        guard spawned.process.isRunning else { return }
        kill(pid, SIGKILL)
        spawned.process.waitUntilExit()
    }
}
