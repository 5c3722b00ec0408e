import Testing

@testable import MMCoreEngine

/// The sync queue's schedule alone: backoff after failed passes, and `Retry-After` as a
/// floor measured on the monotonic clock the caller passes in.
@Suite struct RetryScheduleTests {
    static let policy = RetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(8), jitter: false)
    static let start = ContinuousClock.now

    static func failure(retryAfter: Double? = nil) -> MobileMessagingError {
        var error = MobileMessagingError.network("unreachable")
        error.retryAfterSeconds = retryAfter
        return error
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 4), (4, 8), (6, 8)])
    func failedPassesBackOffUpToTheCap(passes: Int, seconds: Int64) {
        var schedule = RetrySchedule()
        var delay = Duration.zero
        for _ in 0..<passes { delay = schedule.nextDelay(after: Self.failure(), policy: Self.policy) }
        #expect(delay == .seconds(seconds))
    }

    @Test func aSucceedingPassOrDeliveryStartsTheBackoffOver() {
        var schedule = RetrySchedule()
        _ = schedule.nextDelay(after: Self.failure(), policy: Self.policy)
        _ = schedule.nextDelay(after: Self.failure(), policy: Self.policy)
        schedule.notePassSucceeded()
        #expect(schedule.nextDelay(after: Self.failure(), policy: Self.policy) == .seconds(1))
        schedule.noteDelivered()
        #expect(schedule.failures == 0)
    }

    @Test func aQueuedFirstFailureCountsAsOnePass() {
        var schedule = RetrySchedule()
        schedule.noteQueued()
        schedule.noteQueued()
        #expect(schedule.failures == 1)
        #expect(schedule.nextDelay(after: Self.failure(), policy: Self.policy) == .seconds(2))
    }

    @Test(arguments: [
        // (Retry-After, seconds later, blocked, the delay asked for, the delay given)
        (10.0, 0.0, true, 1.0, 10.0), (10.0, 9.0, true, 0.0, 1.0), (10.0, 10.0, false, 0.0, 0.0),
        (2.0, 0.0, true, 5.0, 5.0),
    ])
    func retryAfterHoldsDeliveryUntilItsWindowCloses(
        retryAfter: Double, later: Double, blocked: Bool, asked: Double, given: Double
    ) {
        var schedule = RetrySchedule()
        let error = Self.failure(retryAfter: retryAfter)
        schedule.noteFailure(error, now: Self.start)
        let now = Self.start + .milliseconds(Int64(later * 1000))
        #expect((schedule.blockingError(now: now) != nil) == blocked)
        let delay = schedule.honouringRetryAfter(.milliseconds(Int64(asked * 1000)), now: now)
        #expect(abs(delay.seconds - given) < 0.001, "\(delay)")
    }

    @Test func aFailureWithoutRetryAfterBlocksNothingAndADeliveryLiftsTheWindow() {
        var schedule = RetrySchedule()
        schedule.noteFailure(Self.failure(), now: Self.start)
        #expect(schedule.blockingError(now: Self.start) == nil)
        schedule.noteFailure(Self.failure(retryAfter: 30), now: Self.start)
        #expect(schedule.blockingError(now: Self.start)?.code == "NETWORK_ERROR")
        schedule.noteDelivered()
        #expect(schedule.blockingError(now: Self.start) == nil)
        #expect(schedule.honouringRetryAfter(.seconds(1), now: Self.start) == .seconds(1))
    }

    @Test func resetForgetsEverything() {
        var schedule = RetrySchedule()
        schedule.noteFailure(Self.failure(retryAfter: 30), now: Self.start)
        _ = schedule.nextDelay(after: Self.failure(), policy: Self.policy)
        schedule.reset()
        #expect(schedule.failures == 0 && schedule.lastError == nil && schedule.retryAfterDeadline == nil)
    }
}
