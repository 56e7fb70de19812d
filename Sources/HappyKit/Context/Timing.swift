import FoundationEssentials

/// The clock, injected: wall time for expiry checks, monotonic time for deadlines, and sleeping.
public struct Timing: Sendable {
    public var now: @Sendable () -> Date
    public var elapsed: @Sendable () -> Duration
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        now: @escaping @Sendable () -> Date, elapsed: @escaping @Sendable () -> Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.now = now
        self.elapsed = elapsed
        self.sleep = sleep
    }

    /// The real clock.
    public static func live() -> Timing {
        let clock = ContinuousClock()
        let start = clock.now
        return Timing(now: { Date() }, elapsed: { clock.now - start }, sleep: { try await Task.sleep(for: $0) })
    }
}
