import Foundation

/// A real HTTP proxy (tinyproxy, Debian) on a loopback port, logging each connection so tests can prove the traffic
/// went through it.
final class Tinyproxy: @unchecked Sendable {
    let spawned: Spawned
    let url: String
    let scratch: Scratch
    var log: String { (try? String(contentsOfFile: scratch.path + "/tinyproxy.log", encoding: .utf8)) ?? "" }

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tinyproxy") }

    init() async throws {
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
        spawned = try Spawned("/usr/bin/tinyproxy", ["-d", "-c", scratch.path + "/tinyproxy.conf"],
                              environment: ProcessInfo.processInfo.environment, in: scratch.path)
        url = "http://127.0.0.1:\(port)"
        for _ in 0..<200 {
            if log.contains("Reloading config file finished") || log.contains("Starting main loop") { return }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func stop() async {
        kill(spawned.process.processIdentifier, SIGKILL)
        await spawned.wait(seconds: 10)
    }
}
