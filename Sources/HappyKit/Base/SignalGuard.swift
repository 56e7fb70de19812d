/// Holds off signal-driven exits while credentials are written, so SIGINT, SIGTERM or SIGHUP in the middle of a
/// login's last step either lets both files be written or finds neither written (PROTOCOL §3). The live guard is
/// the CLI's signal handler; tests use `.none` or a recording one.
public struct SignalGuard: Sendable {
    /// Runs `body` with exits held off until it returns.
    public var holding: @Sendable (_ body: () throws -> Void) throws -> Void

    public init(holding: @escaping @Sendable (_ body: () throws -> Void) throws -> Void) { self.holding = holding }

    /// No signal handling (tests, library use).
    public static let none = SignalGuard { body in try body() }
}
