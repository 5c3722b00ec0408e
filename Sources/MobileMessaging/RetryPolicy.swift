/// How long to wait before retrying background work (registration, a pending
/// depersonalize): `initialDelay`, doubled after each failure, capped at `maximumDelay`.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maximumDelay: Duration

    public init(initialDelay: Duration, maximumDelay: Duration) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    public static let standard = RetryPolicy(initialDelay: .seconds(5), maximumDelay: .seconds(300))

    /// The delay before attempt `failures + 1`, after `failures` failed attempts (>= 1).
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = initialDelay
        for _ in 1..<max(failures, 1) {
            delay *= 2
            if delay >= maximumDelay { return maximumDelay }
        }
        return min(delay, maximumDelay)
    }
}
