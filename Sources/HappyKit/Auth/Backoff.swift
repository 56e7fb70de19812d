/// Capped exponential backoff with full jitter for transient poll failures; `Retry-After` (whole seconds) wins when
/// given, but never below `base`: `Retry-After: 0` cannot make polling faster than about once a second.
struct Backoff: Sendable {
    var base: Duration = .seconds(1)
    var cap: Duration = .seconds(10)
    private(set) var failures = 0

    /// The wait after one more failure. `random` is in 0..<1; the wait is between half and all of the step.
    mutating func next(random: Double, retryAfter: String?) -> Duration {
        failures += 1
        if let retryAfter, let seconds = Int(retryAfter.trimmingWhitespace()), seconds >= 0 {
            return max(.seconds(min(seconds, 60)), base)
        }
        let exponent = min(failures - 1, 10)
        let step = min(base * (1 << exponent), cap)
        return step * (0.5 + random / 2)
    }

    mutating func reset() { failures = 0 }
}
