import Glibc

/// Signals and process control for stopping the daemon, injected so tests never signal a real pid.
public struct ProcessControl: Sendable {
    /// True while the pid exists.
    public var isAlive: @Sendable (Int32) -> Bool
    /// Sends a signal; returns whether it was delivered.
    public var signal: @Sendable (Int32, Int32) -> Bool
    /// Whether the pid is shown to be the happy daemon of the home (PROTOCOL §3); only then is it signalled.
    public var proveDaemon: @Sendable (Int32, HappyHome) -> DaemonProof

    public init(
        isAlive: @escaping @Sendable (Int32) -> Bool, signal: @escaping @Sendable (Int32, Int32) -> Bool,
        proveDaemon: @escaping @Sendable (Int32, HappyHome) -> DaemonProof
    ) {
        self.isAlive = isAlive
        self.signal = signal
        self.proveDaemon = proveDaemon
    }

    public static func live() -> ProcessControl {
        let inspector = ProcDaemonInspector()
        return ProcessControl(
            isAlive: { pid in pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) },
            signal: { pid, sig in pid > 1 && kill(pid, sig) == 0 },
            proveDaemon: { pid, home in inspector.prove(pid: pid, home: home) })
    }
}
