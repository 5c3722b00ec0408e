import JSON
import Logging

// MARK: - Custom events: admission, and the sending the event queue asks for
//
// The rules (checks, the queue and its boundaries, the file, the schedule) live in
// `Events/`; this is where the session hands them the registration, the client, the
// lane and the event sink.

extension Session {
    // MARK: Admission

    /// `submitEvent`: stamped with the time of the call, written to `events.json`
    /// before the answer (`null`), then sent in a batch after the quiet period, once
    /// registered, in front of any later `personalize` / `depersonalize`.
    ///
    /// - Throws (as the answer): `NOT_INITIALIZED`, `CUSTOM_EVENTS_LIMIT_REACHED`,
    ///   `STATE_UNAVAILABLE` (not kept).
    func admitSubmitEvent(_ input: CustomEventInput) -> Admitted {
        do throws(MobileMessagingError) {
            try requireConfiguration()
            try customEvents.accept(input.stamped(at: clock.now))
        } catch {
            return .failed(error)
        }
        let now = monotonicClock.now
        if let deadline = customEvents.withSchedule({ $0.afterSubmit(now: now) }) {
            armCustomEventTimer(at: deadline)
        }
        return .value(.null)
    }

    /// `submitEventImmediately`: one event, `validate=true`, in call order once
    /// registered; answers `null` or the server's refusal. Nothing is kept for a retry.
    func admitSubmitEventImmediately(_ input: CustomEventInput) -> Admitted {
        let event = input.stamped(at: clock.now)
        return enqueue("submitEventImmediately") { session in
            let own = try await session.registeredInstallationID()
            try await session.requireAPI().postCustomEvents(own, [event], validate: true)
            return .null
        }
    }

    /// Admits a call that changes the person this installation belongs to: events
    /// submitted before it are sent before it (`admit` gets the boundary, and its lane
    /// job calls ``sendCustomEvents(before:own:)`` then ``personChangeEnded(_:)``).
    func admitPersonChange(_ admit: (Int) -> Admitted) -> Admitted {
        let boundary = customEvents.openBoundary()
        let admitted = admit(boundary)
        if case .answered = admitted { customEvents.closeBoundary(boundary) }
        return admitted
    }

    // MARK: Around a person change (on the lane)

    /// Sends the events held in front of `boundary` (and of any boundary before it);
    /// returns the transient failure that stopped it (they stay held), `nil` once sent.
    func sendCustomEvents(before boundary: Int, own: String) async -> MobileMessagingError? {
        guard customEvents.queue.boundary(boundary) != nil else { return nil }
        return await sendHeldCustomEvents(own: own, epoch: epoch)
    }

    /// The person-changing call is kept in the sync queue (`depersonalize` answered
    /// `"pending"`): events submitted after it wait for the queued request. Written
    /// before the answer; if it cannot be, the hold lasts only as long as this process (logged).
    func holdCustomEventsBehindQueuedDepersonalize(_ boundary: Int) {
        do throws(MobileMessagingError) {
            try customEvents.makeDurable(boundary)
        } catch {
            logger.error("custom events after a pending depersonalize could not be held back", metadata: ["description": .string(error.description)])
        }
    }

    /// The call ended (whatever its outcome): events behind its boundary may go.
    func personChangeEnded(_ boundary: Int) {
        if customEvents.closeBoundary(boundary) { kickCustomEventDelivery() }
    }

    /// Before the sync queue delivers a queued depersonalize: the events submitted before
    /// it go first; a transient failure keeps both.
    func sendCustomEventsBeforeQueuedDepersonalize(own: String) async throws(MobileMessagingError) {
        // Whatever the outcome, the events behind it are looked at again after this lane job.
        defer { kickCustomEventDelivery() }
        if let failure = await sendHeldCustomEvents(own: own, epoch: epoch) { throw failure }
    }

    // MARK: Lifecycle

    /// Opens the event queue's file with the state (in `init`).
    func openCustomEvents() throws(MobileMessagingError) {
        guard let store else { return }
        try customEvents.open(directory: store.directory, now: clock.now)
    }

    /// `cleanup` (and a new application code): held events are dropped, on disk too.
    func dropCustomEvents() {
        let count = customEvents.queue.held.count
        do throws(MobileMessagingError) {
            try customEvents.removeAll()
        } catch {
            logger.error("the dropped custom events could not be removed from the disk", metadata: ["description": .string(error.description)])
        }
        if count > 0 { logger.notice("held custom events dropped", metadata: ["count": .stringConvertible(count)]) }
    }

    /// Something may have made held events deliverable (init, the registration, a
    /// person change ended): deliver soon, unless a backoff holds.
    func kickCustomEventDelivery() {
        guard configuration != nil, !customEvents.queue.isEmpty,
            let deadline = customEvents.schedule.afterChange(now: monotonicClock.now)
        else { return }
        if let armed = customEvents.timerDeadline, armed <= deadline { return }
        armCustomEventTimer(at: deadline)
    }

    /// For tests: a shorter quiet period than the natives' 2 s.
    func setCustomEventTiming(quietPeriod: Duration, maximumWait: Duration) {
        customEvents.setTiming(quietPeriod: quietPeriod, maximumWait: maximumWait)
    }

    // MARK: Background delivery

    private func armCustomEventTimer(at deadline: ContinuousClock.Instant) {
        let epoch = self.epoch
        let delay = deadline - monotonicClock.now
        let task = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            guard !Task.isCancelled else { return }
            self.admitCustomEventDelivery(epoch: epoch)
        }
        customEvents.setTimer(task, deadline: deadline)
    }

    /// Takes a place on the lane, so a delivery never overlaps another nor a
    /// person-changing call.
    private func admitCustomEventDelivery(epoch: Int) {
        customEvents.timerFired()
        guard isCurrent(epoch) else { return }
        _ = lane.admit { [self] in await self.deliverCustomEventsInBackground(epoch: epoch) }
    }

    private func deliverCustomEventsInBackground(epoch: Int) async {
        guard isCurrent(epoch), configuration != nil else { return }
        guard let own = state.installation?.pushRegistrationId else {
            // Delivered when the registration completes (it kicks delivery).
            startRegistrationIfNeeded()
            return
        }
        customEvents.setRetryPolicy(retries.policy)
        if let failure = await sendHeldCustomEvents(own: own, epoch: epoch) {
            guard isCurrent(epoch) else { return }
            let now = monotonicClock.now
            let next = customEvents.withSchedule { $0.failed(failure, now: now) }
            logger.debug("held custom events are still pending", metadata: ["code": .string(failure.code)])
            armCustomEventTimer(at: next)
        }
    }

    /// Sends held events in front of the first boundary, batch by batch (`validate=false`).
    /// A batch refused for good (any 4xx but 429) is dropped, with a log line and
    /// `customEventsDropped`; a transient failure stops and is returned, keeping it.
    private func sendHeldCustomEvents(own: String, epoch: Int) async -> MobileMessagingError? {
        customEvents.withSchedule { $0.attemptStarted() }
        while isCurrent(epoch) {
            reconcileCustomEventBoundaries()
            let batch = customEvents.queue.nextBatch()
            guard !batch.isEmpty else { return nil }
            if let blocking = customEvents.schedule.retries.blockingError(now: monotonicClock.now) { return blocking }
            guard let api else { return .notInitialized }
            do throws(MobileMessagingError) {
                try await api.postCustomEvents(own, batch.map(\.event), validate: false)
                guard isCurrent(epoch) else { return nil }
                customEvents.withSchedule { $0.delivered() }
                removeCustomEvents(batch)
                logger.debug("custom events delivered", metadata: ["count": .stringConvertible(batch.count)])
            } catch {
                guard isCurrent(epoch) else { return nil }
                if error.isTransient { return error }
                removeCustomEvents(batch)
                logger.error(
                    "custom events refused by the server are dropped",
                    metadata: ["count": .stringConvertible(batch.count), "code": .string(error.code), "description": .string(error.description)])
                emit(.customEventsDropped, ["count": .number(JSONNumber(batch.count)), "reason": error.data])
            }
        }
        return nil
    }

    private func removeCustomEvents(_ batch: [EventQueue.Held]) {
        do throws(MobileMessagingError) {
            try customEvents.remove(batch)
        } catch {
            // Sent again after a restart: delivery is at least once.
            logger.error("delivered custom events could not be removed from the disk", metadata: ["description": .string(error.description)])
        }
    }

    /// Durable boundaries follow the depersonalize requests in the sync queue.
    private func reconcileCustomEventBoundaries() {
        let queued = queue.changes.reduce(0) { $0 + ($1.kind == .depersonalize ? 1 : 0) }
        do throws(MobileMessagingError) {
            _ = try customEvents.reconcile(queuedDepersonalizes: queued)
        } catch {
            logger.error("the custom events' boundaries could not be written", metadata: ["description": .string(error.description)])
        }
    }
}
