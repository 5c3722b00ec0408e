extension MobileMessagingError {
    /// `submitEvent` at a cap of the event queue: the event is not kept; those held are.
    static func customEventsLimitReached(_ problem: String, limits: EventQueueLimits) -> MobileMessagingError {
        MobileMessagingError(
            .customEventsLimitReached,
            description:
                "The event was not accepted: \(problem) (at most \(limits.maximumHeldEvents) events and \(limits.maximumHeldBytes) bytes). Nothing held was dropped; they are sent once the Mobile API can be reached, and new events are accepted again then."
        )
    }
}
