import JSON
import Logging

/// The person's inbox: `fetchInboxMessages` (with its own token, checked as the
/// user-data JWT is and issued for the person asked for), `fetchInboxMessagesWithoutToken`
/// and `setInboxMessagesSeen`, each as the step that runs on the lane.
///
/// The inbox token is used for its one call: it is never the user-data JWT, never kept,
/// never logged. Seen marks go through the durable queue, in call order, and ids known
/// to be seen (``InboxSeenLedger``, kept by ``RecordSync``) are not sent again.
@EngineActor
struct InboxService {
    private let parts: CallParts
    private let clock: WallClock

    init(_ parts: CallParts, clock: WallClock) {
        self.parts = parts
        self.clock = clock
    }

    /// At admission: a token that fails the checks is refused before anything is queued.
    func checkToken(_ token: String?, for externalUserId: String) throws(MobileMessagingError) {
        if let token { _ = try checkedToken(token, for: externalUserId) }
    }

    /// Fetches a page (`Bearer` with `token`, else `App`). It does not wait for the
    /// registration: the inbox is the person's, and the iOS SDK sends no installation either.
    func fetch(token: String?, externalUserId: String, options: InboxFilterOptions) async throws(MobileMessagingError) -> JSONValue {
        // Checked again when sent: the call may have waited on the lane past the token's `exp`.
        var sent: String?
        if let token { sent = try checkedToken(token, for: externalUserId) }
        let page = try await parts.backend.api.fetchInbox(externalUserId: externalUserId, query: options.serverQuery, token: sent)
        parts.records.noteSeen(page.seenMessageIds, of: externalUserId)
        let waiting = InboxSeenMarks.queuedIds(in: parts.state.queue.changes, for: externalUserId)
        parts.logger.debug("inbox fetched", metadata: ["messages": .stringConvertible(page.messages.count)])
        return options.answer(from: page.markingSeen(waiting)).wrapperJSON
    }

    /// Marks messages seen; answers the ids given once their marks reached the server,
    /// or were kept for a retry (then an error with `pending: true`, as `saveUser`).
    func markSeen(externalUserId: String, messageIds: [String]) async throws(MobileMessagingError) -> JSONValue {
        let answer = JSONValue.array(messageIds.map(JSONValue.string))
        let waiting = InboxSeenMarks.queuedIds(in: parts.state.queue.changes, for: externalUserId)
        let fresh = parts.records.unseen(messageIds, of: externalUserId, alsoSkipping: waiting)
        guard !fresh.isEmpty else {
            parts.logger.debug("setInboxMessagesSeen: every id is already seen or queued; no request")
            return answer
        }
        let marks = InboxSeenMarks(externalUserId: externalUserId, messageIds: fresh, seenAt: clock.now)
        let own = parts.state.ownID ?? ""
        // Earlier marks still queued go first, so marks reach the server in call order.
        if let failure = await parts.delivery.flush([.inboxSeen]).failure {
            guard !parts.state.isClosed else { throw failure }
            try parts.delivery.keep(.inboxSeen, own: own, body: marks.queuedBody, after: failure)
            throw failure.markedPending
        }
        do throws(MobileMessagingError) {
            try await parts.records.sendSeen(marks) {}
        } catch where error.isTransient {
            guard !parts.state.isClosed else { throw error }
            parts.logger.notice("inbox seen marks could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            try parts.delivery.keep(.inboxSeen, own: own, body: marks.queuedBody, after: error)
            throw error.markedPending
        }
        return answer
    }

    private func checkedToken(_ token: String, for externalUserId: String) throws(MobileMessagingError) -> String {
        do throws(MobileMessagingError) {
            return try InboxToken.checked(token, for: externalUserId, now: clock.now)
        } catch {
            // Its code only: never the token, nor who it was for.
            parts.logger.notice("the inbox token was refused on the client; no request sent", metadata: ["code": .string(error.code)])
            throw error
        }
    }
}
