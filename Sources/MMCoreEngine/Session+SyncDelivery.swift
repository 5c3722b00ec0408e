import JSON
import Logging

// MARK: - Delivering the sync queue, and its retry schedule

extension Session {
    /// Keeps a change that could not be sent, durably, before the caller is answered
    /// (merged per ``SyncQueue`` rules). If the state cannot be written the change is not
    /// kept and `failure` is thrown as is (not pending).
    func keepForRetry(_ kind: PendingChange.Kind, own: String, body: JSONObject?, after failure: MobileMessagingError)
        throws(MobileMessagingError)
    {
        let previous = (state, queue)
        let now = clock.now
        let delay = retries.policy.jitteredDelay(afterFailures: 1, retryAfter: failure.retryAfterSeconds)
        queue.enqueue(kind, own: own, body: body, now: now, nextAttemptAt: now + delay.seconds)
        if kind == .depersonalize { state.user = nil }
        do throws(MobileMessagingError) {
            try persistOrThrow(durable: true)
        } catch {
            (state, queue) = previous
            logger.error("a change could not be kept for a retry", metadata: ["description": .string(error.description)])
            throw failure
        }
        retries.noteFailure(failure, now: monotonicClock.now)
        retries.noteQueued()
        schedulePendingWork(after: delay)
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

    /// Delivers queued changes of `kinds`, oldest first, until one fails transiently
    /// (returned; it and everything after it stay queued) or none is left. A `saveUser`
    /// waiting for a token is skipped (or deleted when a depersonalize follows it); a
    /// refused change is dropped. Honours `Retry-After`: nothing is sent before it.
    func flushQueue(epoch: Int, kinds: Set<PendingChange.Kind>) async -> MobileMessagingError? {
        var skipped: Set<String> = []
        while isCurrent(epoch) {
            guard let change = queue.next(of: kinds, skipping: skipped) else { return nil }
            if queue.isTokenBlocked(change, paused: authentication.isPaused) {
                if queue.depersonalizeFollows(change) {
                    dropTokenBlocked(only: [change.id], method: "depersonalize")
                } else {
                    skipped.insert(change.id)
                }
                continue
            }
            if let blocking = retries.blockingError(now: monotonicClock.now) { return blocking }
            let outcome = await deliver(change, epoch: epoch)
            guard isCurrent(epoch) else { return nil }
            switch outcome {
            case .delivered:
                retries.noteDelivered()
            case .transient(let error):
                let policy = retries.policy
                let now = clock.now
                // Not written now (advisory; a restart retries at once anyway): no fsync per
                // failed attempt. The next state write carries it.
                queue.noteFailedAttempt(change.id) { attempts in
                    now + policy.jitteredDelay(afterFailures: attempts, retryAfter: error.retryAfterSeconds).seconds
                }
                retries.noteFailure(error, now: monotonicClock.now)
                logger.debug("a queued change is still pending", metadata: ["kind": .string(change.kind.rawValue), "code": .string(error.code)])
                return error
            case .tokenRefused(let error):
                logger.notice(
                    "a queued saveUser was refused for its token; kept until a new token arrives",
                    metadata: ["code": .string(error.code)])
                queue.markAwaitingToken(change.id)
                authentication.lastTokenRefusal = error.errorCode
            case .refused(let error):
                logger.error(
                    "a queued change was refused and is dropped",
                    metadata: [
                        "kind": .string(change.kind.rawValue), "code": .string(error.code), "description": .string(error.description),
                    ])
                queue.remove(change.id)
                persist()
                if change.kind == .depersonalize { lastDepersonalizeRefusal = error }
            }
        }
        return nil
    }

    /// Sends one queued change; on success removes it, keeps the server's answer and
    /// emits the event of its kind, in one state write.
    private func deliver(_ change: PendingChange, epoch: Int) async -> Delivery {
        guard let api else { return .transient(.notInitialized) }
        let id = change.pushRegistrationId
        let body = change.body ?? JSONObject()
        do throws(MobileMessagingError) {
            switch change.kind {
            case .depersonalize:
                try await api.depersonalize(id, own: id)
                guard isCurrent(epoch) else { return .delivered }
                queue.remove(change.id)
                persist()
                logger.debug("a queued depersonalize completed")
                emit(.depersonalized, .null)
            case .saveInstallation:
                let returned = try await api.patchInstallation(id, body: body, own: id)
                guard isCurrent(epoch) else { return .delivered }
                var saved = returned ?? Installation(api: PendingChange.applying(body, to: state.installation?.apiJSON.objectValue ?? [:]))
                saved.pushRegistrationId = saved.pushRegistrationId ?? id
                queue.remove(change.id)
                if id == state.installation?.pushRegistrationId { state.installation = saved }
                persist()
                logger.debug("a queued saveInstallation completed")
                emit(.installationUpdated, saved.wrapperJSON)
            case .saveUser:
                let token: String?
                do throws(MobileMessagingError) {
                    token = try await tokenForCall("saveUser", externalUserId: state.user?.externalUserId)
                } catch {
                    return .tokenRefused(error)
                }
                let returned = try await userRequest("saveUser", token: token, externalUserId: state.user?.externalUserId) {
                    (token) async throws(MobileMessagingError) in
                    try await api.patchUser(id, body: body, token: token)
                }
                guard isCurrent(epoch) else { return .delivered }
                // Off the queue at once: the narrower the window between the server's
                // answer and this write, the rarer a repeat after a crash.
                queue.remove(change.id)
                persist()
                var user = returned
                if user == nil { user = try? await api.fetchUser(id, token: tokens.token) }
                guard isCurrent(epoch) else { return .delivered }
                let saved = user ?? UserData(api: PendingChange.applying(body, to: state.user?.apiJSON.objectValue ?? [:]))
                logger.debug("a queued saveUser completed")
                storeUser(saved, event: .userUpdated, always: true)
            case .inboxSeen:
                try await deliverQueuedInboxSeen(change, epoch: epoch)
            }
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

    /// `depersonalize` called while queued user changes wait for a token: they are deleted.
    func dropTokenBlockedUserChanges(method: String) {
        dropTokenBlocked(only: nil, method: method)
    }

    private func dropTokenBlocked(only ids: Set<String>?, method: String) {
        let count = queue.dropTokenBlocked(paused: authentication.isPaused, only: ids)
        guard count > 0 else { return }
        persist()
        logger.notice("queued user changes refused for their token are deleted by depersonalize", metadata: ["count": .stringConvertible(count)])
        let code = authentication.lastTokenRefusal ?? .authenticationPaused
        emit(
            .authenticationError,
            [
                "code": .string(code.name),
                "description": .string(
                    "\(count) queued user change(s) refused for the user-data JWT were deleted by depersonalize and will not be retried."),
                "method": .string(method),
            ])
    }

    /// Retries queued work after `delay` (never before `Retry-After`), once registered;
    /// one timer at a time. The retry itself takes its place on the lane.
    func schedulePendingWork(after delay: Duration) {
        guard queue.hasDeliverableWork(paused: authentication.isPaused), state.installation?.pushRegistrationId != nil,
            pendingRetryTask == nil, api != nil
        else { return }
        let delay = retries.honouringRetryAfter(delay, now: monotonicClock.now)
        let epoch = self.epoch
        pendingRetryTask = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            guard !Task.isCancelled else { return }
            self.admitPendingRetry(epoch: epoch)
        }
    }

    private func admitPendingRetry(epoch: Int) {
        pendingRetryTask = nil
        guard isCurrent(epoch) else { return }
        _ = lane.admit { [self] in await self.retryPendingWork(epoch: epoch) }
    }

    private func retryPendingWork(epoch: Int) async {
        guard isCurrent(epoch), queue.hasDeliverableWork(paused: authentication.isPaused) else { return }
        if let failure = await flushQueue(epoch: epoch, kinds: [.saveUser, .saveInstallation, .depersonalize, .inboxSeen]) {
            guard isCurrent(epoch) else { return }
            schedulePendingWork(after: retries.nextDelay(after: failure))
        } else {
            retries.notePassSucceeded()
        }
    }
}
