/// The auth-failure budget: no blind retries after the server refuses the credentials.
///
/// Counts consecutive refusals of the user-data credentials; after ``failureLimit`` in a
/// row, JWT calls fail fast with `AUTHENTICATION_PAUSED` until a new token arrives or the
/// process restarts (it is kept in memory on purpose). Any success resets the count.
/// A pure value: the session reports outcomes and asks before sending.
struct AuthenticationGate: Sendable, Equatable {
    static let failureLimit = 10

    private(set) var consecutiveFailures = 0
    private(set) var isPaused = false

    /// Throws `AUTHENTICATION_PAUSED` while paused.
    func check() throws(MobileMessagingError) {
        if isPaused { throw .authenticationPaused(consecutiveFailures) }
    }

    mutating func recordSuccess() {
        consecutiveFailures = 0
    }

    /// Counts a refusal; returns `true` when this one paused the gate.
    mutating func recordFailure() -> Bool {
        consecutiveFailures += 1
        guard consecutiveFailures >= Self.failureLimit, !isPaused else { return false }
        isPaused = true
        return true
    }

    /// A new token (or a new session) ends what the old one caused.
    mutating func reset() {
        consecutiveFailures = 0
        isPaused = false
    }
}
