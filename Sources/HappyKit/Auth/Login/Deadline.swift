/// The login's one deadline (`--timeout`): every request, every sleep and every wait of a login — the first request,
/// each poll, the OCSP preflight, the browser's callback and the hand-off's claim — is cut to what is left of it, and
/// running out is `approvalTimedOut` (exit 75) wherever it happens. The only place a login measures time.
public struct Deadline: Sendable {
    let end: Duration
    let timing: Timing
    /// The whole budget, for the message.
    let seconds: Int

    /// Starts now and lasts `length`.
    public init(lasting length: Duration, timing: Timing) {
        self.timing = timing
        end = timing.elapsed() + length
        seconds = Int(clamping: length.components.seconds)
    }

    /// What is left; throws `approvalTimedOut` when nothing is.
    public func remaining() throws -> Duration {
        let left = end - timing.elapsed()
        guard left > .zero else { throw HappyError.approvalTimedOut(seconds: seconds) }
        return left
    }

    /// Runs a request that honours a time limit with at most the time left; a failure after the deadline passed is
    /// the timeout itself.
    public func bounding<T>(_ request: (Duration) async throws -> T) async throws -> T {
        let left = try remaining()
        do { return try await request(left) } catch let error as HappyError {
            _ = try remaining()
            throw error
        }
    }

    /// Waits for something that cannot take a time limit itself (the browser's callback): whichever comes first, its
    /// result or the deadline (then `approvalTimedOut`; the wait is cancelled).
    public func waiting<T: Sendable>(for wait: @escaping @Sendable () async throws -> T) async throws -> T {
        let left = try remaining()
        let timing = timing
        let first = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await wait() }
            group.addTask {
                try await timing.sleep(left)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let first else { throw HappyError.approvalTimedOut(seconds: seconds) }
        return first
    }

    /// Sleeps `wait`, or until the deadline when that comes first (then throws `approvalTimedOut`).
    public func sleep(_ wait: Duration) async throws {
        let left = try remaining()
        try await timing.sleep(max(.zero, min(wait, left)))
        if wait >= left { _ = try remaining() }
    }
}
