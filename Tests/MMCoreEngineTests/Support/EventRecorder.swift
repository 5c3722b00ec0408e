@testable import MMCoreEngine

/// Records every event the session emits.
final class EventRecorder: EventSink {
    private let events = Locked<[MobileMessagingEvent]>([])

    func emit(_ event: MobileMessagingEvent) {
        events.withLock { $0.append(event) }
    }

    var all: [MobileMessagingEvent] { events.current }

    func named(_ name: MobileMessagingEvent.Name) -> [MobileMessagingEvent] {
        all.filter { $0.name == name }
    }

    /// Waits (polling) until an event named `name` has been emitted `count` times.
    @discardableResult
    func wait(for name: MobileMessagingEvent.Name, count: Int = 1, timeout: Duration = .seconds(30)) async -> MobileMessagingEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let matching = named(name)
            if matching.count >= count { return matching[count - 1] }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}
