/// How long to wait before retrying background work (registration, the sync queue):
/// `initialDelay`, doubled after each failure, capped at `maximumDelay`. The sync queue
/// draws its delays with full jitter (uniform in `0...delay`) so that many devices
/// coming back online do not retry in step, and never earlier than a `Retry-After`.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    /// Whether delays are drawn with full jitter; without it each delay is its ceiling
    /// (for hosts and tests that need a retry to wait the whole delay).
    public var jitter: Bool

    public init(initialDelay: Duration, maximumDelay: Duration, jitter: Bool = true) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
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

    /// Full jitter: `unit` (uniform in `0..<1`) times ``delay(afterFailures:)``, but not
    /// less than `retryAfter` seconds when the server asked for that.
    public func jitteredDelay(afterFailures failures: Int, retryAfter: Double? = nil, unit: Double) -> Duration {
        let ceiling = delay(afterFailures: failures).seconds
        let drawn = ceiling * min(max(unit, 0), 1)
        let seconds = max(drawn, retryAfter ?? 0)
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// ``jitteredDelay(afterFailures:retryAfter:unit:)`` with a random unit.
    public func jitteredDelay(afterFailures failures: Int, retryAfter: Double? = nil) -> Duration {
        jitteredDelay(afterFailures: failures, retryAfter: retryAfter, unit: jitter ? Double.random(in: 0..<1) : 1)
    }
}

extension Duration {
    /// The duration in seconds, for timestamps in the state file.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
