import Logging

/// What a session is given and never changes: where state lives, how HTTP is done,
/// where events go, the clocks, and the retry policy a configuration may shorten.
struct SessionEnvironment: Sendable {
    let stateDirectory: String
    let transport: any HTTPTransport
    let events: any EventSink
    let clock: WallClock
    /// The time `Retry-After` windows are measured on.
    let monotonicClock: MonotonicClock
    let defaultRetryPolicy: RetryPolicy
}
