/// Which inbox messages are known to be seen, so `setInboxMessagesSeen` does not send
/// them again (both SDKs keep such a set): those whose mark the server accepted, and
/// those the server answered as seen in a fetch. Marks still queued are told apart by
/// the queue itself (``InboxSeenMarks/queuedIds(in:for:)``).
///
/// In memory only, as in the SDKs, and bounded: after a restart, or once more than
/// ``capacity`` marks have been recorded, an old mark may be sent once more, which the
/// server takes as a no-op.
struct InboxSeenLedger: Sendable {
    static let capacity = 10_000

    private struct Key: Hashable {
        let externalUserId: String
        let messageId: String
    }

    private var seen = Set<Key>()
    /// Insertion order, for forgetting the oldest first.
    private var order: [Key] = []

    /// `ids` without those known to be seen, nor `alsoSkipping`, nor repeats; in the order given.
    func unseen(_ ids: [String], of externalUserId: String, alsoSkipping skipped: Set<String> = []) -> [String] {
        var taken = skipped
        return ids.filter { id in
            guard !seen.contains(Key(externalUserId: externalUserId, messageId: id)), !taken.contains(id) else { return false }
            taken.insert(id)
            return true
        }
    }

    mutating func record(_ ids: [String], of externalUserId: String) {
        for id in ids {
            let key = Key(externalUserId: externalUserId, messageId: id)
            if seen.insert(key).inserted { order.append(key) }
        }
        if order.count > Self.capacity {
            let excess = order.count - Self.capacity
            seen.subtract(order[..<excess])
            order.removeFirst(excess)
        }
    }

    mutating func removeAll() {
        seen.removeAll()
        order.removeAll()
    }
}
