import JSON

/// The custom events part of a session: the held events and their boundaries
/// (``EventQueue``), their file (``EventQueueFile``), when to deliver
/// (``EventDeliverySchedule``) and the one timer that does it.
///
/// Every change that the app relies on is written before the call returns: an accepted
/// event before `submitEvent` answers, a durable boundary before `depersonalize` answers
/// `"pending"`. The session does the sending (`Session+Events.swift`); this type keeps
/// the state consistent with the file.
struct CustomEventOutbox: Sendable {
    private(set) var queue: EventQueue
    private(set) var schedule: EventDeliverySchedule
    private var file: EventQueueFile?
    private var timer: Task<Void, Never>?
    private(set) var timerDeadline: ContinuousClock.Instant?

    init(limits: EventQueueLimits = .standard, policy: RetryPolicy = .standard) {
        queue = EventQueue(limits: limits)
        schedule = EventDeliverySchedule(policy: policy)
    }

    /// Opens `events.json` in `directory` (whose lock the caller holds) and loads it.
    ///
    /// - Throws: `STATE_CORRUPTED` (the file was moved aside; the next open starts
    ///   empty), `STATE_UNAVAILABLE`.
    mutating func open(directory: String, now: Double) throws(MobileMessagingError) {
        let file = try EventQueueFile(directory: directory)
        queue = try file.load(now: now, limits: queue.limits)
        self.file = file
    }

    /// Releases the file and stops the timer (shutdown); held events stay in the file.
    mutating func close() {
        cancelTimer()
        file = nil
        schedule.reset()
    }

    // MARK: Accepting

    /// Keeps `event`, on disk before it returns.
    ///
    /// - Throws: `CUSTOM_EVENTS_LIMIT_REACHED` at a cap, `STATE_UNAVAILABLE` when the
    ///   file cannot be written (then the event is not kept).
    mutating func accept(_ event: CustomEvent) throws(MobileMessagingError) {
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

    mutating func openBoundary() -> Int { queue.openBoundary() }

    /// Returns whether a boundary was removed (events behind it may go now).
    @discardableResult
    mutating func closeBoundary(_ id: Int) -> Bool { queue.closeBoundary(id) }

    /// Written at once: the app is about to be told the depersonalize is pending.
    mutating func makeDurable(_ id: Int) throws(MobileMessagingError) {
        queue.makeDurable(id)
        try save()
    }

    /// Closes durable boundaries whose queued depersonalize is gone; writes when any was.
    /// Returns whether any was.
    mutating func reconcile(queuedDepersonalizes: Int) throws(MobileMessagingError) -> Bool {
        guard queue.reconcile(queuedDepersonalizes: queuedDepersonalizes) else { return false }
        try save()
        return true
    }

    // MARK: Delivering

    /// The events of `batch` left (delivered, or refused for good): off the queue and the file.
    mutating func remove(_ batch: [EventQueue.Held]) throws(MobileMessagingError) {
        queue.remove(batch)
        try save()
    }

    /// `cleanup` or another application: every held event goes, on disk too.
    mutating func removeAll() throws(MobileMessagingError) {
        cancelTimer()
        schedule.reset()
        let held = !queue.isEmpty || queue.hasDurableBoundaries
        queue.removeAll()
        // Nothing held: the file (if any) already says so; none is created for it.
        if held { try save() }
    }

    mutating func setRetryPolicy(_ policy: RetryPolicy) { schedule.retries.policy = policy }

    mutating func setTiming(quietPeriod: Duration, maximumWait: Duration) {
        schedule.quietPeriod = quietPeriod
        schedule.maximumWait = maximumWait
    }

    mutating func withSchedule<T>(_ body: (inout EventDeliverySchedule) -> T) -> T { body(&schedule) }

    // MARK: The timer

    /// Replaces the timer by `task`, due at `deadline`.
    mutating func setTimer(_ task: Task<Void, Never>, deadline: ContinuousClock.Instant) {
        timer?.cancel()
        timer = task
        timerDeadline = deadline
    }

    /// The timer fired: it is no longer armed.
    mutating func timerFired() {
        timer = nil
        timerDeadline = nil
    }

    mutating func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func save() throws(MobileMessagingError) {
        try file?.save(queue)
    }
}
