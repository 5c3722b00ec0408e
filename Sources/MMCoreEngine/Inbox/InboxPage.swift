import JSON

/// A fetched inbox: the answer of `fetchInboxMessages` and
/// `fetchInboxMessagesWithoutToken`, `{countTotal, countUnread, countTotalFiltered?,
/// countUnreadFiltered?, messages}` (iOS `MMInbox`, Android `Inbox`).
struct InboxPage: Sendable, Equatable {
    var countTotal: Int
    var countUnread: Int
    /// Present when several topics were filtered here, or when the server sent them.
    var countTotalFiltered: Int?
    var countUnreadFiltered: Int?
    /// In the server's order (by send date-time).
    var messages: [InboxMessage]

    init(countTotal: Int, countUnread: Int, countTotalFiltered: Int? = nil, countUnreadFiltered: Int? = nil, messages: [InboxMessage]) {
        self.countTotal = countTotal
        self.countUnread = countUnread
        self.countTotalFiltered = countTotalFiltered
        self.countUnreadFiltered = countUnreadFiltered
        self.messages = messages
    }

    /// The Mobile API's answer; `nil` when it is not an inbox (`messages` not a list,
    /// or counts that are not whole numbers). Missing counts are 0, as both SDKs read them.
    init?(server object: JSONObject) {
        var counts: [String: Int] = [:]
        for key in ["countTotal", "countUnread", "countTotalFiltered", "countUnreadFiltered"] {
            switch object[key] {
            case nil, .null?: continue
            case .number(let number)? where number.intValue != nil: counts[key] = number.intValue
            default: return nil
            }
        }
        let messages: [JSONValue]
        switch object["messages"] {
        case nil, .null?: messages = []
        case .array(let entries)?: messages = entries
        default: return nil
        }
        self.init(
            countTotal: counts["countTotal"] ?? 0, countUnread: counts["countUnread"] ?? 0,
            countTotalFiltered: counts["countTotalFiltered"], countUnreadFiltered: counts["countUnreadFiltered"],
            messages: messages.compactMap(InboxMessage.init(server:)))
    }

    /// The messages of `topics` only, cut to `limit`, with the counts of the filtered
    /// slice (before the cut) in `countTotalFiltered` / `countUnreadFiltered`; the
    /// inbox's own counts stay.
    func filtered(byTopics topics: Set<String>, limit: Int?) -> InboxPage {
        let kept = messages.filter { $0.topic.map(topics.contains) ?? false }
        return InboxPage(
            countTotal: countTotal, countUnread: countUnread, countTotalFiltered: kept.count,
            countUnreadFiltered: kept.filter { !$0.seen }.count, messages: Array(kept.prefix(limit ?? kept.count)))
    }

    /// Messages with a seen mark the server has not received yet shown as seen, and
    /// counted as read: a read after `setInboxMessagesSeen` shows the mark even while
    /// it waits in the queue, as `getUser` shows unsent changes.
    func markingSeen(_ ids: Set<String>) -> InboxPage {
        guard !ids.isEmpty else { return self }
        var page = self
        for index in page.messages.indices where !page.messages[index].seen && ids.contains(page.messages[index].messageId) {
            page.messages[index].seen = true
            page.countUnread = max(0, page.countUnread - 1)
            page.countUnreadFiltered = page.countUnreadFiltered.map { max(0, $0 - 1) }
        }
        return page
    }

    /// The ids the server reports seen.
    var seenMessageIds: [String] { messages.filter(\.seen).map(\.messageId) }

    var wrapperJSON: JSONValue {
        var object: JSONObject = ["countTotal": .number(JSONNumber(countTotal)), "countUnread": .number(JSONNumber(countUnread))]
        if let countTotalFiltered { object["countTotalFiltered"] = .number(JSONNumber(countTotalFiltered)) }
        if let countUnreadFiltered { object["countUnreadFiltered"] = .number(JSONNumber(countUnreadFiltered)) }
        object["messages"] = .array(messages.map(\.wrapperJSON))
        return .object(object)
    }
}
