import Foundation

/// `daemon.state.json`, written by the happy daemon; read only (PROTOCOL §3).
public struct DaemonState: Sendable, Equatable {
    public var pid: Int32
    public var httpPort: Int
    public var startTime: String?
    public var startedWithCliVersion: String?

    /// Nil when there is no file or it cannot be understood (a stale or foreign file is not an error for status).
    public static func load(from home: HappyHome) -> DaemonState? {
        guard let bytes = try? home.read(home.daemonStatePath), let json = try? JSONParser.parse(bytes),
            let pid = json["pid"]?.intValue, let port = json["httpPort"]?.intValue, pid > 0
        else { return nil }
        return DaemonState(
            pid: Int32(pid), httpPort: port, startTime: json["startTime"]?.stringValue,
            startedWithCliVersion: json["startedWithCliVersion"]?.stringValue)
    }

    /// Whether the process is alive (signal 0). EPERM means it exists but belongs to someone else.
    public var isRunning: Bool { kill(pid, 0) == 0 || errno == EPERM }
}
