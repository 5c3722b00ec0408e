import Logging

/// The custom events waiting for delivery and their boundaries (``EventQueue``), kept
/// equal to their file, `events.json` (``EventQueueFile``), next to `state.json`.
///
/// Opened with the state and owned by ``LocalState``, so it lives and ends with one
/// generation of it: a `cleanup` or an `init` for another application drops every held
/// event (``wiped()``), and once closed nothing late can write the file again. Every
/// change that the app relies on is written before the call returns: an accepted event
/// before `submitEvent` answers, a durable boundary before `depersonalize` answers
/// `"pending"`. Sending is ``EventsService``'s.
@EngineActor
final class HeldEvents {
    private(set) var queue: EventQueue
    private var file: EventQueueFile?
    private let logger: Logger

    /// Opens `events.json` in `directory` (whose lock the caller holds) and loads it.
    ///
    /// - Throws: `STATE_CORRUPTED` (the file was moved aside; the next open starts
    ///   empty), `STATE_UNAVAILABLE`.
    static func open(directory: String, now: Double, logger: Logger, limits: EventQueueLimits = .standard) throws(MobileMessagingError)
        -> HeldEvents
    {
        let file = try EventQueueFile(directory: directory)
        return HeldEvents(queue: try file.load(now: now, limits: limits), file: file, logger: logger)
    }

    private init(queue: EventQueue, file: EventQueueFile?, logger: Logger) {
        self.queue = queue
        self.file = file
        self.logger = logger
    }

    var isClosed: Bool { file == nil }

    /// Releases the file (the end of a generation, shutdown): held events stay in it.
    func close() { file = nil }

    /// `cleanup` or another application: every held event goes, on disk too. Closes
    /// this one and returns the empty one of the next generation, on the same file.
    func wiped() -> HeldEvents {
        let fresh = HeldEvents(queue: EventQueue(limits: queue.limits), file: file, logger: logger)
        let count = queue.held.count
        // Nothing held: the file (if any) already says so; none is created for it.
        if count > 0 || queue.hasDurableBoundaries {
            do throws(MobileMessagingError) {
                try file?.save(fresh.queue)
            } catch {
                logger.error("the dropped custom events could not be removed from the disk", metadata: ["description": .string(error.description)])
            }
        }
        if count > 0 { logger.notice("held custom events dropped", metadata: ["count": .stringConvertible(count)]) }
        close()
        return fresh
    }

    // MARK: Accepting

    /// Keeps `event`, on disk before it returns.
    ///
    /// - Throws: `CUSTOM_EVENTS_LIMIT_REACHED` at a cap, `STATE_UNAVAILABLE` when the
    ///   file cannot be written (then the event is not kept).
    func accept(_ event: CustomEvent) throws(MobileMessagingError) {
        guard file != nil else { throw .stateUnavailable("the custom events' file is not open") }
        if let problem = queue.capProblem(for: event) { throw .customEventsLimitReached(problem, limits: queue.limits) }
        let previous = queue
        queue.append(event)
        do throws(MobileMessagingError) {
            try save()
        } catch {
            queue = previous
            throw error
        }
    }

    // MARK: Boundaries

    func openBoundary() -> Int { queue.openBoundary() }

    /// Returns whether a boundary was removed (events behind it may go now).
    @discardableResult
    func closeBoundary(_ id: Int) -> Bool { queue.closeBoundary(id) }

    /// Written at once: the app is about to be told the depersonalize is pending.
    func makeDurable(_ id: Int) throws(MobileMessagingError) {
        queue.makeDurable(id)
        try save()
    }

    /// Closes durable boundaries whose queued depersonalize is gone; writes when any was.
    /// Returns whether any was.
    func reconcile(queuedDepersonalizes: Int) throws(MobileMessagingError) -> Bool {
        guard queue.reconcile(queuedDepersonalizes: queuedDepersonalizes) else { return false }
        try save()
        return true
    }

    // MARK: Delivering

    /// The events of `batch` left (delivered, or refused for good): off the queue and the file.
    func remove(_ batch: [EventQueue.Held]) throws(MobileMessagingError) {
        queue.remove(batch)
        try save()
    }

    private func save() throws(MobileMessagingError) {
        try file?.save(queue)
    }
}
