import Foundation
import HappyKit

/// A fake clock: `sleep` returns at once (unless the task is cancelled), records the duration and advances
/// `elapsed` by it; `now` is fixed. A 120 s timeout runs in milliseconds.
final class TestTiming: Sendable {
    /// 2026-01-01T00:00:00Z.
    static let defaultNow = Date(timeIntervalSince1970: 1_767_225_600)

    let now: Date
    private let state = Locked((elapsed: Duration.zero, sleeps: [Duration]()))

    init(now: Date = TestTiming.defaultNow) { self.now = now }

    var elapsed: Duration { state.current.elapsed }
    var sleeps: [Duration] { state.current.sleeps }

    /// Moves the monotonic clock forward without a sleep (time spent "inside" a request).
    func advance(by duration: Duration) { state.withLock { $0.elapsed += duration } }

    var timing: Timing {
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
