/// Where the first registration of this installation stands: the running attempt, the
/// failures so far, and the calls waiting for its id.
///
/// A value owned by ``Registration``, which starts the tasks; this type keeps the
/// bookkeeping (who waits, who is resumed, which attempt is current) in one place.
struct RegistrationState {
    struct Waiter {
        let continuation: CheckedContinuation<Result<String, MobileMessagingError>, Never>
        let timer: Task<Void, Never>
    }

    /// The attempt in flight, if any; its number tells a stale finish from the current one.
    private(set) var attempt: (number: Int, task: Task<Void, Never>)?
    private(set) var failures = 0
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiterID = 0
    private var nextAttempt = 0

    var isRunning: Bool { attempt != nil }

    /// Records a new attempt; `makeTask` receives its number.
    mutating func begin(_ makeTask: (Int) -> Task<Void, Never>) {
        nextAttempt += 1
        attempt = (nextAttempt, makeTask(nextAttempt))
    }

    /// Whether `number` is the attempt in flight (a timed-out or wiped one is not).
    func isCurrent(_ number: Int) -> Bool { attempt?.number == number }

    /// Ends the attempt in flight and counts the outcome.
    mutating func finish(succeeded: Bool) {
        attempt = nil
        failures = succeeded ? 0 : failures + 1
    }

    mutating func reserveWaiterID() -> Int {
        nextWaiterID += 1
        return nextWaiterID
    }

    mutating func addWaiter(_ id: Int, _ waiter: Waiter) { waiters[id] = waiter }

    /// Removes one waiter (its deadline passed); `nil` if it was already resumed.
    mutating func removeWaiter(_ id: Int) -> Waiter? { waiters.removeValue(forKey: id) }

    /// Resumes every waiter with `result`.
    mutating func resumeAll(_ result: Result<String, MobileMessagingError>) {
        let all = waiters.values
        waiters.removeAll()
        for waiter in all {
            waiter.timer.cancel()
            waiter.continuation.resume(returning: result)
        }
    }

    /// Stops the attempt and fails the waiters: the state was wiped.
    mutating func reset(_ error: MobileMessagingError) {
        attempt?.task.cancel()
        attempt = nil
        failures = 0
        resumeAll(.failure(error))
    }
}
