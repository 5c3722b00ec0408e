import JSON
import Logging

/// Delivers the durable sync queue: keeps a change that could not be sent, sends queued
/// changes oldest first before the calls that must come after them, and retries in the
/// background on its own schedule (backoff with jitter, never before `Retry-After`),
/// with the one timer of that schedule.
@EngineActor
final class SyncDelivery: NewTokenObserver {
    /// What a pass over the queue ended with.
    struct Outcome {
        /// The transient failure that stopped it (it and every later change stay queued).
        var failure: MobileMessagingError?
        /// A queued `depersonalize` the server refused (and that was dropped).
        var depersonalizeRefusal: MobileMessagingError?
    }

    private enum Delivery {
        case delivered
        /// Try again later, unchanged.
        case transient(MobileMessagingError)
        /// A `saveUser` refused for its token: waits for a new one.
        case tokenRefused(MobileMessagingError)
        /// Refused for good (validation...): dropped.
        case refused(MobileMessagingError)
    }

    private let backend: Backend
    private let state: LocalState
    private let authentication: Authentication
    private let records: RecordSync
    private let events: EventsService
    private let lane: CallLane
    private let environment: SessionEnvironment
    private let logger: Logger
    private var schedule = RetrySchedule()
    private var timer: Task<Void, Never>?

    init(
        backend: Backend, state: LocalState, authentication: Authentication, records: RecordSync, events: EventsService,
        lane: CallLane, environment: SessionEnvironment, logger: Logger
    ) {
        self.backend = backend
        self.state = state
        self.authentication = authentication
        self.records = records
        self.events = events
        self.lane = lane
        self.environment = environment
        self.logger = logger
    }

    // MARK: Keeping

    /// Keeps a change that could not be sent, durably, before the caller is answered
    /// (merged per ``SyncQueue`` rules). If the state cannot be written the change is not
    /// kept and `failure` is thrown as is (not pending).
    func keep(_ kind: PendingChange.Kind, own: String, body: JSONObject?, after failure: MobileMessagingError) throws(MobileMessagingError) {
        let now = environment.clock.now
        let delay = backend.retryPolicy.jitteredDelay(afterFailures: 1, retryAfter: failure.retryAfterSeconds)
        do throws(MobileMessagingError) {
            try state.enqueue(kind, own: own, body: body, now: now, nextAttemptAt: now + delay.seconds)
        } catch {
            logger.error("a change could not be kept for a retry", metadata: ["description": .string(error.description)])
            throw failure
        }
        schedule.noteFailure(failure, now: environment.monotonicClock.now)
        schedule.noteQueued()
        scheduleRetry(after: delay)
    }

    // MARK: Delivering

    /// Delivers queued changes of `kinds`, oldest first, until one fails transiently or
    /// none is left. A `saveUser` waiting for a token is skipped (or deleted when a
    /// depersonalize follows it); a refused change is dropped. Honours `Retry-After`:
    /// nothing is sent before it.
    func flush(_ kinds: Set<PendingChange.Kind>) async -> Outcome {
        var outcome = Outcome()
        var skipped: Set<String> = []
        while !state.isClosed {
            guard let change = state.queue.next(of: kinds, skipping: skipped) else { return outcome }
            if state.queue.isTokenBlocked(change, paused: authentication.isPaused) {
                if state.queue.depersonalizeFollows(change) {
                    dropTokenBlocked(only: [change.id], method: .depersonalize)
                } else {
                    skipped.insert(change.id)
                }
                continue
            }
            if let blocking = schedule.blockingError(now: environment.monotonicClock.now) {
                outcome.failure = blocking
                return outcome
            }
            let delivery = await deliver(change)
            guard !state.isClosed else { return Outcome() }
            switch delivery {
            case .delivered:
                schedule.noteDelivered()
            case .transient(let error):
                let policy = backend.retryPolicy
                let now = environment.clock.now
                // Not written now (advisory; a restart retries at once anyway): no fsync per
                // failed attempt. The next state write carries it.
                state.updateQueue {
                    $0.noteFailedAttempt(change.id) { attempts in
                        now + policy.jitteredDelay(afterFailures: attempts, retryAfter: error.retryAfterSeconds).seconds
                    }
                }
                schedule.noteFailure(error, now: environment.monotonicClock.now)
                logger.debug("a queued change is still pending", metadata: ["kind": .string(change.kind.rawValue), "code": .string(error.code)])
                outcome.failure = error
                return outcome
            case .tokenRefused(let error):
                logger.notice(
                    "a queued saveUser was refused for its token; kept until a new token arrives", metadata: ["code": .string(error.code)])
                state.updateQueue { $0.markAwaitingToken(change.id, refusedWith: error.errorCode) }
            case .refused(let error):
                logger.error(
                    "a queued change was refused and is dropped",
                    metadata: [
                        "kind": .string(change.kind.rawValue), "code": .string(error.code), "description": .string(error.description),
                    ])
                state.updateQueue { $0.remove(change.id) }
                state.persist()
                if change.kind == .depersonalize { outcome.depersonalizeRefusal = error }
            }
        }
        return outcome
    }

    /// Sends one queued change through ``RecordSync``; it leaves the queue as soon as the
    /// server has taken it (the narrower the window between the server's answer and
    /// this write, the rarer a repeat after a crash).
    private func deliver(_ change: PendingChange) async -> Delivery {
        let id = change.pushRegistrationId
        let body = change.body ?? JSONObject()
        let accepted = {
            self.state.updateQueue { $0.remove(change.id) }
            self.state.persist()
        }
        do throws(MobileMessagingError) {
            switch change.kind {
            case .depersonalize:
                // Events submitted before the depersonalize belong to the person leaving.
                try await events.sendBeforeQueuedDepersonalize(own: id)
                try await records.depersonalize(own: id, accepted: accepted)
            case .saveInstallation:
                _ = try await records.saveInstallation(body, target: id, own: id, always: true, accepted: accepted)
            case .saveUser:
                let token: String?
                do throws(MobileMessagingError) {
                    token = try await authentication.tokenForCall(externalUserId: state.user?.externalUserId)
                } catch {
                    return .tokenRefused(error)
                }
                _ = try await records.saveUser(body, own: id, token: token, always: true, accepted: accepted)
            case .inboxSeen:
                guard let marks = change.body.flatMap(InboxSeenMarks.init(queued:)) else {
                    // Unreachable for entries this version wrote or loaded (the loader checks them).
                    accepted()
                    return .delivered
                }
                try await records.sendSeen(marks, accepted: accepted)
            }
            logger.debug("a queued \(change.kind.rawValue) completed")
            return .delivered
        } catch {
            if error.isTransient { return .transient(error) }
            if change.kind == .saveUser
                && (error.isAuthenticationRejection || error.isClientTokenRefusal || error.errorCode == .authenticationPaused)
            {
                return .tokenRefused(error)
            }
            return .refused(error)
        }
    }

    /// `depersonalize` called while queued user changes wait for a token: they are
    /// deleted (they belong to the person leaving), with an `authenticationError`.
    func dropTokenBlocked(only ids: Set<String>? = nil, method: Call) {
        let count = state.updateQueue { $0.dropTokenBlocked(paused: authentication.isPaused, only: ids) }
        guard count > 0 else { return }
        state.persist()
        logger.notice("queued user changes refused for their token are deleted by depersonalize", metadata: ["count": .stringConvertible(count)])
        let code = state.queue.lastTokenRefusal ?? .authenticationPaused
        state.emit(
            .authenticationError,
            [
                "code": .string(code.name),
                "description": .string(
                    "\(count) queued user change(s) refused for the user-data JWT were deleted by depersonalize and will not be retried."),
                "method": .string(method.rawValue),
            ])
    }

    // MARK: The schedule

    /// Retries queued work after `delay` (never before `Retry-After`), once registered;
    /// one timer at a time. The retry itself takes its place on the lane.
    func scheduleRetry(after delay: Duration) {
        guard !state.isClosed, state.queue.hasDeliverableWork(paused: authentication.isPaused), state.ownID != nil, timer == nil
        else { return }
        let delay = schedule.honouringRetryAfter(delay, now: environment.monotonicClock.now)
        timer = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            guard !Task.isCancelled else { return }
            self.timer = nil
            guard !self.state.isClosed else { return }
            self.lane.admitBackground("retry") { await self.retryPass() }
        }
    }

    private func retryPass() async {
        guard !state.isClosed, state.queue.hasDeliverableWork(paused: authentication.isPaused) else { return }
        if let failure = await flush([.saveUser, .saveInstallation, .depersonalize, .inboxSeen]).failure {
            guard !state.isClosed else { return }
            scheduleRetry(after: schedule.nextDelay(after: failure, policy: backend.retryPolicy))
        } else {
            schedule.notePassSucceeded()
        }
    }

    /// A new token: changes that waited for one may go, now.
    func newTokenArrived(afterRefusals: Bool) {
        let wasBlocked = afterRefusals || !state.queue.awaitingToken.isEmpty
        state.updateQueue { $0.tokenArrived() }
        if wasBlocked {
            timer?.cancel()
            timer = nil
        }
        scheduleRetry(after: .zero)
    }

    /// Stops the timer: this generation is over.
    func end() {
        timer?.cancel()
        timer = nil
    }
}
