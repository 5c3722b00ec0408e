/// How much the event queue holds and sends at once. The caps bound the state file and
/// the memory an app that submits events while offline can make the core use; at a cap
/// `submitEvent` answers `CUSTOM_EVENTS_LIMIT_REACHED` and everything already held stays.
struct EventQueueLimits: Sendable, Equatable {
    /// Events held for delivery at most.
    var maximumHeldEvents = 1000
    /// Their size as sent (the `events` members), at most.
    var maximumHeldBytes = 1 << 20
    /// One event's size as sent, at most (so a batch always holds at least one).
    var maximumEventBytes = 64 << 10
    /// Events in one request, at most.
    var maximumBatchEvents = 100
    /// One request's events, in bytes, at most.
    var maximumBatchBytes = 256 << 10

    static let standard = EventQueueLimits()
}
