import Foundation
import HappyKit

/// A fake clock: `sleep` returns at once (unless the task is cancelled), records the duration and advances
/// `elapsed` by it; `now` is fixed. A 120 s timeout runs in milliseconds.
public final class TestTiming: Sendable {
    /// 2026-01-01T00:00:00Z.
    public static let defaultNow = Date(timeIntervalSince1970: 1_767_225_600)

    public let now: Date
    private let state = Locked((elapsed: Duration.zero, sleeps: [Duration]()))

    public init(now: Date = TestTiming.defaultNow) { self.now = now }

    public var elapsed: Duration { state.current.elapsed }
    public var sleeps: [Duration] { state.current.sleeps }

    /// Moves the monotonic clock forward without a sleep (time spent "inside" a request).
    public func advance(by duration: Duration) { state.withLock { $0.elapsed += duration } }

    public var timing: Timing {
        let now = self.now
        let state = self.state
        return Timing(
            now: { now },
            elapsed: { state.current.elapsed },
            sleep: { duration in
                try Task.checkCancellation()
                state.withLock {
                    $0.elapsed += duration; $0.sleeps.append(duration)
                }
            })
    }
}
