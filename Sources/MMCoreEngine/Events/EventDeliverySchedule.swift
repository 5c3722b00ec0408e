/// When held events are sent: after a quiet period once the app stops submitting, at
/// the latest a while after the first of them, and after a backoff when a delivery
/// failed transiently. A pure value on the monotonic clock; ``EventsService`` arms one
/// timer at the instant it returns.
///
/// The natives wait 2 s (iOS, restarted by each event) and 5 s (Android, a throttle);
/// we take iOS's quiet period and bound it, so an app that submits without pause still
/// delivers every ``maximumWait``.
struct EventDeliverySchedule: Sendable {
    var quietPeriod: Duration = .seconds(2)
    var maximumWait: Duration = .seconds(10)
    /// Backoff with jitter and `Retry-After`, as for the sync queue.
    var retries = RetrySchedule()
    /// The first event submitted since the last attempt.
    private(set) var waitingSince: ContinuousClock.Instant?
    /// No attempt before this after a transient failure.
    private(set) var backoffUntil: ContinuousClock.Instant?

    /// An event was accepted: when to deliver, or `nil` to leave a backoff's timer as it is.
    mutating func afterSubmit(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        if let backoffUntil, now < backoffUntil { return nil }
        let first = waitingSince ?? now
        waitingSince = first
        return min(now + quietPeriod, first + maximumWait)
    }

    /// Something may have made events deliverable (the registration finished, a
    /// person-changing call ended, a restart): now, unless a backoff holds.
    func afterChange(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        if let backoffUntil, now < backoffUntil { return nil }
        return now
    }

    /// An attempt starts: events submitted from now on wait for a quiet period again.
    mutating func attemptStarted() { waitingSince = nil }

    /// A batch went through.
    mutating func delivered() {
        retries.noteDelivered()
        retries.notePassSucceeded()
        backoffUntil = nil
    }

    /// A delivery failed transiently: the instant of the next attempt, by `policy`.
    mutating func failed(_ error: MobileMessagingError, now: ContinuousClock.Instant, policy: RetryPolicy) -> ContinuousClock.Instant {
        retries.noteFailure(error, now: now)
        let backoff = retries.nextDelay(after: error, policy: policy)
        let next = now + retries.honouringRetryAfter(backoff, now: now)
        backoffUntil = next
        return next
    }

    mutating func reset() {
        retries.reset()
        waitingSince = nil
        backoffUntil = nil
    }
}
