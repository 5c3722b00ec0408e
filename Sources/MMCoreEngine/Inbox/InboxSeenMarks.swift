import JSON

/// Seen marks of one person's inbox messages, as one `setInboxMessagesSeen` (or several
/// merged) leaves them in the durable queue until the server has them.
///
/// Queued as a ``PendingChange`` of kind `inboxSeen` whose body is
/// `{externalUserId, messages: [{messageId, seenAt}]}`, `seenAt` in seconds since the
/// epoch: the request's `timestampDelta` (whole seconds between the mark and its
/// sending, both SDKs' unit) is computed when it is sent, so a mark delivered after a
/// day offline says it was seen a day ago.
struct InboxSeenMarks: Sendable, Equatable {
    struct Mark: Sendable, Equatable {
        let messageId: String
        let seenAt: Double
    }

    let externalUserId: String
    private(set) var marks: [Mark]

    init(externalUserId: String, messageIds: [String], seenAt: Double) {
        self.externalUserId = externalUserId
        marks = messageIds.map { Mark(messageId: $0, seenAt: seenAt) }
    }

    var messageIds: [String] { marks.map(\.messageId) }

    // MARK: In the queue

    /// Reads a queued body; `nil` when it is not one this type wrote.
    init?(queued body: JSONObject) {
        guard let externalUserId = body["externalUserId"]?.stringValue, let entries = body["messages"]?.arrayValue, !entries.isEmpty
        else { return nil }
        var marks: [Mark] = []
        for entry in entries {
            guard let messageId = entry["messageId"]?.stringValue, let seenAt = entry["seenAt"]?.numberValue?.doubleValue else { return nil }
            marks.append(Mark(messageId: messageId, seenAt: seenAt))
        }
        self.externalUserId = externalUserId
        self.marks = marks
    }

    var queuedBody: JSONObject {
        [
            "externalUserId": .string(externalUserId),
            "messages": .array(marks.map { ["messageId": .string($0.messageId), "seenAt": .number(JSONNumber($0.seenAt))] }),
        ]
    }

    /// The merge rule of the queue: marks join the entry queued right before them when
    /// that entry holds marks for the same person (one request instead of two, order
    /// unchanged: nothing was queued between them). Returns the merged body, or `nil`
    /// to queue them as an entry of their own.
    static func merged(_ later: JSONObject, into earlier: PendingChange) -> JSONObject? {
        guard earlier.kind == .inboxSeen, let body = earlier.body, var merged = InboxSeenMarks(queued: body),
            let added = InboxSeenMarks(queued: later), added.externalUserId == merged.externalUserId
        else { return nil }
        let known = Set(merged.messageIds)
        merged.marks += added.marks.filter { !known.contains($0.messageId) }
        return merged.queuedBody
    }

    /// The ids of `externalUserId` waiting in `changes`.
    static func queuedIds(in changes: [PendingChange], for externalUserId: String) -> Set<String> {
        var ids = Set<String>()
        for change in changes where change.kind == .inboxSeen {
            guard let body = change.body, let marks = InboxSeenMarks(queued: body), marks.externalUserId == externalUserId else { continue }
            ids.formUnion(marks.messageIds)
        }
        return ids
    }

    // MARK: On the wire

    /// The Mobile API body, with each mark's delta to `now` in whole seconds (never negative).
    func requestBody(now: Double) -> JSONValue {
        let messages: [JSONValue] = marks.map { mark in
            let delta = max(0, (now - mark.seenAt).rounded(.down))
            return ["messageId": .string(mark.messageId), "timestampDelta": .number(JSONNumber(delta)), "inbox": true]
        }
        return ["externalUserId": .string(externalUserId), "messages": .array(messages)]
    }
}
