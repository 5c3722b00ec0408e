import JSON
import Logging

// MARK: - The inbox: fetchInboxMessages, fetchInboxMessagesWithoutToken, setInboxMessagesSeen
//
// The session's glue only: admission, the lane, the durable queue and the seen ledger.
// What an inbox is and how it is read, filtered and marked lives in `Inbox/`.

extension Session {
    // MARK: Admission

    /// `fetchInboxMessages` (`token` given: `Bearer`, checked first) or
    /// `fetchInboxMessagesWithoutToken` (`App`). Takes its place on the lane, so a fetch
    /// written after `setInboxMessagesSeen` runs after it; it does not wait for the
    /// registration (the inbox is the person's; the iOS SDK sends no installation either).
    func admitFetchInbox(token: String?, externalUserId: String, options: InboxFilterOptions) -> Admitted {
        let method = token == nil ? "fetchInboxMessagesWithoutToken" : "fetchInboxMessages"
        let checks = { () throws(MobileMessagingError) in
            if let token { _ = try self.checkedInboxToken(token, for: externalUserId) }
        }
        return enqueue(method, checks: checks) { session in
            try await session.fetchInboxOnLane(token: token, externalUserId: externalUserId, options: options)
        }
    }

    /// `setInboxMessagesSeen`: answers the ids given once their marks reached the server,
    /// or were kept for a retry (then an error with `pending: true`, as `saveUser`).
    func admitSetInboxMessagesSeen(externalUserId: String, messageIds: [String]) -> Admitted {
        enqueue("setInboxMessagesSeen") { session in
            try await session.markInboxSeenOnLane(externalUserId: externalUserId, messageIds: messageIds)
        }
    }

    // MARK: On the lane

    private func fetchInboxOnLane(token: String?, externalUserId: String, options: InboxFilterOptions) async throws -> JSONValue {
        let epoch = self.epoch
        // Checked again when sent: the call may have waited on the lane past the token's `exp`.
        var checkedToken: String?
        if let token { checkedToken = try checkedInboxToken(token, for: externalUserId) }
        let page = try await requireAPI().fetchInbox(externalUserId: externalUserId, query: options.serverQuery, token: checkedToken)
        guard isCurrent(epoch) else { return options.answer(from: page).wrapperJSON }
        inboxSeenLedger.record(page.seenMessageIds, of: externalUserId)
        let waiting = InboxSeenMarks.queuedIds(in: queue.changes, for: externalUserId)
        logger.debug("inbox fetched", metadata: ["messages": .stringConvertible(page.messages.count)])
        return options.answer(from: page.markingSeen(waiting)).wrapperJSON
    }

    private func markInboxSeenOnLane(externalUserId: String, messageIds: [String]) async throws(MobileMessagingError) -> JSONValue {
        let answer = JSONValue.array(messageIds.map(JSONValue.string))
        let waiting = InboxSeenMarks.queuedIds(in: queue.changes, for: externalUserId)
        let fresh = inboxSeenLedger.unseen(messageIds, of: externalUserId, alsoSkipping: waiting)
        guard !fresh.isEmpty else {
            logger.debug("setInboxMessagesSeen: every id is already seen or queued; no request")
            return answer
        }
        let epoch = self.epoch
        let marks = InboxSeenMarks(externalUserId: externalUserId, messageIds: fresh, seenAt: clock.now)
        // Earlier marks still queued go first, so marks reach the server in call order.
        if let failure = await flushQueue(epoch: epoch, kinds: [.inboxSeen]) {
            guard isCurrent(epoch) else { throw failure }
            try keepForRetry(.inboxSeen, own: state.installation?.pushRegistrationId ?? "", body: marks.queuedBody, after: failure)
            throw failure.markedPending
        }
        do throws(MobileMessagingError) {
            try await requireAPI().sendInboxSeen(marks, now: clock.now, own: state.installation?.pushRegistrationId)
        } catch {
            // A refusal is final and not remembered as seen: the mark never reached the server.
            guard error.isTransient, isCurrent(epoch) else { throw error }
            logger.notice("inbox seen marks could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            try keepForRetry(.inboxSeen, own: state.installation?.pushRegistrationId ?? "", body: marks.queuedBody, after: error)
            throw error.markedPending
        }
        if isCurrent(epoch) { inboxSeenLedger.record(fresh, of: externalUserId) }
        return answer
    }

    // MARK: The durable queue

    /// Delivers one queued `inboxSeen` entry (from ``flushQueue(epoch:kinds:)``); on
    /// success removes it and records its marks.
    func deliverQueuedInboxSeen(_ change: PendingChange, epoch: Int) async throws(MobileMessagingError) {
        guard let marks = change.body.flatMap(InboxSeenMarks.init(queued:)) else {
            // Unreachable for entries this version wrote or loaded (the loader checks them).
            queue.remove(change.id)
            persist()
            return
        }
        try await requireAPI().sendInboxSeen(marks, now: clock.now, own: state.installation?.pushRegistrationId)
        guard isCurrent(epoch) else { return }
        queue.remove(change.id)
        inboxSeenLedger.record(marks.messageIds, of: marks.externalUserId)
        persist()
        logger.debug("queued inbox seen marks delivered", metadata: ["count": .stringConvertible(marks.marks.count)])
    }

    // MARK: The token

    private func checkedInboxToken(_ token: String, for externalUserId: String) throws(MobileMessagingError) -> String {
        do throws(MobileMessagingError) {
            return try InboxToken.checked(token, for: externalUserId, now: clock.now)
        } catch {
            // Its code only: never the token, nor who it was for.
            logger.notice("the inbox token was refused on the client; no request sent", metadata: ["code": .string(error.code)])
            throw error
        }
    }
}
