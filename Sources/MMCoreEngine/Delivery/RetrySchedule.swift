/// When the sync queue is tried again: backoff with jitter after consecutive failures,
/// never before the server's `Retry-After`.
///
/// The deadline is on the monotonic clock, so an injected wall clock cannot park it; the
/// caller says what time it is, which keeps this a value tests can drive.
struct RetrySchedule: Sendable {
    /// Consecutive failed deliveries of the queue.
    private(set) var failures = 0
    /// The last transient failure, answered while `Retry-After` holds.
    private(set) var lastError: MobileMessagingError?
    /// Nothing queued is sent before this.
    private(set) var retryAfterDeadline: ContinuousClock.Instant?

    /// A transient failure: remembers it and its `Retry-After`.
    mutating func noteFailure(_ error: MobileMessagingError, now: ContinuousClock.Instant) {
        lastError = error
        if let seconds = error.retryAfterSeconds, seconds > 0 {
            retryAfterDeadline = now + .milliseconds(Int64(seconds * 1000))
        }
    }

    /// A delivery went through: the server is reachable again.
    mutating func noteDelivered() {
        failures = 0
        retryAfterDeadline = nil
    }

    /// A whole pass over the queue failed; returns the delay before the next one.
    mutating func nextDelay(after error: MobileMessagingError, policy: RetryPolicy) -> Duration {
        failures += 1
        return policy.jitteredDelay(afterFailures: failures, retryAfter: error.retryAfterSeconds)
    }

    /// A first failure was queued: the next pass waits at least one backoff step.
    mutating func noteQueued() { failures = max(failures, 1) }

    mutating func notePassSucceeded() { failures = 0 }

    /// The error that still holds because of `Retry-After`, if its window is open.
    func blockingError(now: ContinuousClock.Instant) -> MobileMessagingError? {
        guard let retryAfterDeadline, now < retryAfterDeadline else { return nil }
        return lastError
    }

    /// `delay`, or longer when `Retry-After` asks for more.
    func honouringRetryAfter(_ delay: Duration, now: ContinuousClock.Instant) -> Duration {
        guard let retryAfterDeadline else { return delay }
        let remaining = retryAfterDeadline - now
        return remaining > delay ? remaining : delay
    }

    mutating func reset() {
        failures = 0
        lastError = nil
        retryAfterDeadline = nil
    }
}
