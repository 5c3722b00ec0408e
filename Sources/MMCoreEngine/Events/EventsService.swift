import JSON
import Logging

/// Custom events for one generation of the state: `submitEvent` (held, then sent in
/// batches after a quiet period, `validate=false`), `submitEventImmediately` (one event,
/// `validate=true`, on the lane), and the person boundaries that make held events reach
/// the server before a later `personalize` / `depersonalize` (the server attributes an
/// event to whoever the installation belongs to when it arrives).
///
/// The events and their file are ``HeldEvents`` (the state's); this owns when to send
/// (``EventDeliverySchedule``) and the one timer that does it, stopped when the
/// generation ends. Background delivery takes a place on the lane, so it never overlaps
/// another call nor a person change.
@EngineActor
final class EventsService {
    private let backend: Backend
    private let state: LocalState
    private let lane: CallLane
    private let environment: SessionEnvironment
    private let logger: Logger
    private var schedule = EventDeliverySchedule()
    private var timer: Task<Void, Never>?
    private var timerDeadline: ContinuousClock.Instant?

    init(backend: Backend, state: LocalState, lane: CallLane, environment: SessionEnvironment, logger: Logger) {
        self.backend = backend
        self.state = state
        self.lane = lane
        self.environment = environment
        self.logger = logger
    }

    private var held: HeldEvents { state.heldEvents }

    // MARK: Calls

    /// `submitEvent`, at admission: stamped with the time of the call and written to
    /// `events.json` before the answer, then sent after the quiet period once registered.
    ///
    /// - Throws: `CUSTOM_EVENTS_LIMIT_REACHED`, `STATE_UNAVAILABLE` (not kept).
    func submit(_ input: CustomEventInput) throws(MobileMessagingError) {
        try held.accept(input.stamped(at: environment.clock.now))
        if let deadline = schedule.afterSubmit(now: environment.monotonicClock.now) { arm(at: deadline) }
    }

    /// `submitEventImmediately`, on the lane once registered: one event, `validate=true`;
    /// the server's refusal is the answer. Nothing is kept for a retry.
    func sendImmediately(_ event: CustomEvent, own: String) async throws(MobileMessagingError) {
        try await backend.api.postCustomEvents(own, [event], validate: true)
    }

    // MARK: Around a person change

    /// At the admission of a call that changes the person: events submitted before it
    /// are sent before it. The call's step ends the boundary (``personChangeEnded(_:)``).
    func openBoundary() -> Int { held.openBoundary() }

    /// The person change was refused at admission: nothing waits for it.
    func abandonBoundary(_ boundary: Int) { held.closeBoundary(boundary) }

    /// Sends the events held in front of `boundary` (and of any boundary before it);
    /// returns the transient failure that stopped it (they stay held), `nil` once sent.
    func send(before boundary: Int, own: String) async -> MobileMessagingError? {
        guard held.queue.boundary(boundary) != nil else { return nil }
        return await sendHeld(own: own)
    }

    /// The person change is kept in the sync queue (`depersonalize` answered
    /// `"pending"`): events submitted after it wait for the queued request. Written
    /// before the answer; if it cannot be, the hold lasts only as long as this process (logged).
    func holdBehindQueuedDepersonalize(_ boundary: Int) {
        do throws(MobileMessagingError) {
            try held.makeDurable(boundary)
        } catch {
            logger.error(
                "custom events after a pending depersonalize could not be held back", metadata: ["description": .string(error.description)])
        }
    }

    /// The person change ended (whatever its outcome): events behind it may go.
    func personChangeEnded(_ boundary: Int) {
        if held.closeBoundary(boundary) { kick() }
    }

    /// Before the sync queue delivers a queued depersonalize: the events submitted before
    /// it go first; a transient failure keeps both.
    func sendBeforeQueuedDepersonalize(own: String) async throws(MobileMessagingError) {
        // Whatever the outcome, the events behind it are looked at again after this lane job.
        defer { kick() }
        if let failure = await sendHeld(own: own) { throw failure }
    }

    // MARK: The schedule

    /// Something may have made held events deliverable (`init`, the registration, a
    /// person change ended): deliver soon, unless a backoff holds.
    func kick() {
        guard !state.isClosed, !held.queue.isEmpty,
            let deadline = schedule.afterChange(now: environment.monotonicClock.now)
        else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        arm(at: deadline)
    }

    /// Stops the timer: this generation is over.
    func end() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    /// For tests: a shorter quiet period than the natives' 2 s.
    func setTiming(quietPeriod: Duration, maximumWait: Duration) {
        schedule.quietPeriod = quietPeriod
        schedule.maximumWait = maximumWait
    }

    private func arm(at deadline: ContinuousClock.Instant) {
        timer?.cancel()
        timerDeadline = deadline
        let delay = deadline - environment.monotonicClock.now
        timer = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            guard !Task.isCancelled else { return }
            self.timer = nil
            self.timerDeadline = nil
            guard !self.state.isClosed else { return }
            self.lane.admitBackground("customEvents") { await self.deliverInBackground() }
        }
    }

    // MARK: Sending

    private func deliverInBackground() async {
        // Not registered yet: the registration kicks delivery when it completes.
        guard !state.isClosed, let own = state.ownID else { return }
        guard let failure = await sendHeld(own: own), !state.isClosed else { return }
        let next = schedule.failed(failure, now: environment.monotonicClock.now, policy: backend.retryPolicy)
        logger.debug("held custom events are still pending", metadata: ["code": .string(failure.code)])
        arm(at: next)
    }

    /// Sends held events in front of the first boundary, batch by batch (`validate=false`).
    /// A batch refused for good (any 4xx but 429) is dropped, with a log line and
    /// `customEventsDropped`; a transient failure stops and is returned, keeping it.
    private func sendHeld(own: String) async -> MobileMessagingError? {
        schedule.attemptStarted()
        while !state.isClosed {
            reconcileBoundaries()
            let batch = held.queue.nextBatch()
            guard !batch.isEmpty else { return nil }
            if let blocking = schedule.retries.blockingError(now: environment.monotonicClock.now) { return blocking }
            do throws(MobileMessagingError) {
                try await backend.api.postCustomEvents(own, batch.map(\.event), validate: false)
                guard !state.isClosed else { return nil }
                schedule.delivered()
                remove(batch)
                logger.debug("custom events delivered", metadata: ["count": .stringConvertible(batch.count)])
            } catch {
                guard !state.isClosed else { return nil }
                if error.isTransient { return error }
                remove(batch)
                logger.error(
                    "custom events refused by the server are dropped",
                    metadata: ["count": .stringConvertible(batch.count), "code": .string(error.code), "description": .string(error.description)])
                state.emit(.customEventsDropped, ["count": .number(JSONNumber(batch.count)), "reason": error.data])
            }
        }
        return nil
    }

    private func remove(_ batch: [EventQueue.Held]) {
        do throws(MobileMessagingError) {
            try held.remove(batch)
        } catch {
            // Sent again after a restart: delivery is at least once.
            logger.error("delivered custom events could not be removed from the disk", metadata: ["description": .string(error.description)])
        }
    }

    /// Durable boundaries follow the depersonalize requests in the sync queue.
    private func reconcileBoundaries() {
        let queued = state.queue.changes.reduce(0) { $0 + ($1.kind == .depersonalize ? 1 : 0) }
        do throws(MobileMessagingError) {
            _ = try held.reconcile(queuedDepersonalizes: queued)
        } catch {
            logger.error("the custom events' boundaries could not be written", metadata: ["description": .string(error.description)])
        }
    }
}
