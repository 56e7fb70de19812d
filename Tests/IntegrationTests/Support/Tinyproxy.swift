import Foundation

/// A real HTTP proxy (tinyproxy, Debian) on a loopback port, logging each connection so tests can prove the traffic
/// went through it.
final class Tinyproxy: @unchecked Sendable {
    let spawned: Spawned
    let url: String
    let scratch: Scratch
    var log: String { (try? String(contentsOfFile: scratch.path + "/tinyproxy.log", encoding: .utf8)) ?? "" }

    static let executable = "/usr/bin/tinyproxy"

    init() async throws {
        try requireTool(Self.executable, package: "tinyproxy")
        scratch = try Scratch()
        let port = freeLoopbackPort()
        let user = getuid() == 0 ? "User root\nGroup root\n" : ""
        try """
        \(user)Port \(port)
        Listen 127.0.0.1
        Timeout 60
        LogFile "\(scratch.path)/tinyproxy.log"
        LogLevel Connect
        MaxClients 20
        Allow 127.0.0.1
        """.write(toFile: scratch.path + "/tinyproxy.conf", atomically: true, encoding: .utf8)
        spawned = try Spawned(
            Self.executable, ["-d", "-c", scratch.path + "/tinyproxy.conf"],
            environment: TestEnvironment.clean(), in: scratch.path)
        url = "http://127.0.0.1:\(port)"
        for _ in 0..<400 {
            if log.contains("Reloading config file finished") || log.contains("Starting main loop") { return }
            guard spawned.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw SpawnError.exited(stdout: spawned.stdout, stderr: spawned.stderr + log)
    }

    /// Stops tinyproxy before the caller returns (usable in `defer`).
    func stopNow() { spawned.stopNow(SIGKILL) }
}
