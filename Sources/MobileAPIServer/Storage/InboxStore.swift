import Foundation
import GRDB
import JSON

/// The inboxes: messages per application and external user id, and their seen state.
struct InboxStore: Sendable {
    let database: StoreDatabase

    /// What a fetch answers: the counts over every message the filter matches (before the
    /// limit), and the newest `limit` of them, newest first.
    struct Page: Sendable {
        var countTotal: Int
        var countUnread: Int
        var messages: [InboxMessageRecord]
    }

    func put(applicationCode: String, externalUserId: String, _ input: InboxMessageInput) async throws -> InboxMessageRecord {
        let now = Int64((database.now().timeIntervalSince1970 * 1000).rounded(.down))
        return try await database.write { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            let messageId = input.messageId ?? UUID().uuidString.lowercased()
            guard try !InboxMessageRecord.exists(db, key: messageId) else {
                throw StoreError.inboxMessageExists(messageId: messageId)
            }
            let record = InboxMessageRecord(
                messageId: messageId, applicationCode: applicationCode, externalUserId: externalUserId,
                title: input.title, body: input.body, topic: input.topic, sound: input.sound, vibrate: input.vibrate,
                silent: input.silent, customPayload: JSONValue.object(input.customPayload).serialized,
                sentTimestamp: input.sentTimestamp ?? now, seen: false, seenTimestamp: nil)
            try record.insert(db)
            return record
        }
    }

    func page(applicationCode: String, externalUserId: String, filter: InboxFilter) async throws -> Page {
        try await database.read { db in
            var request = InboxMessageRecord.filter(
                Column("applicationCode") == applicationCode && Column("externalUserId") == externalUserId)
            if let from = filter.from { request = request.filter(Column("sentTimestamp") >= from) }
            if let to = filter.to { request = request.filter(Column("sentTimestamp") <= to) }
            if let topic = filter.topic { request = request.filter(Column("topic") == topic) }
            let total = try request.fetchCount(db)
            let unread = try request.filter(Column("seen") == false).fetchCount(db)
            let messages = try request.order(Column("sentTimestamp").desc, Column.rowID.desc).limit(filter.limit)
                .fetchAll(db)
            return Page(countTotal: total, countUnread: unread, messages: messages)
        }
    }

    /// The admin listing: the whole inbox, newest first.
    func all(applicationCode: String, externalUserId: String) async throws -> Page {
        try await database.read { db in try ApplicationStore.requireApplication(db, applicationCode) }
        return try await page(
            applicationCode: applicationCode, externalUserId: externalUserId,
            filter: InboxFilter(limit: Int(Int32.max)))
    }

    /// Marks the messages of this inbox seen, once: a message already seen keeps its
    /// first seen time, and ids not in the inbox are ignored, so a report sent twice
    /// (a retry) changes nothing. Returns how many messages became seen.
    @discardableResult
    func markSeen(applicationCode: String, externalUserId: String, marks: [SeenReport.Mark]) async throws -> Int {
        let now = Int64((database.now().timeIntervalSince1970 * 1000).rounded(.down))
        return try await database.write { db in
            var changed = 0
            for mark in marks {
                guard
                    var record = try InboxMessageRecord.filter(
                        Column("messageId") == mark.messageId && Column("applicationCode") == applicationCode
                            && Column("externalUserId") == externalUserId
                    ).fetchOne(db), !record.seen
                else { continue }
                record.seen = true
                record.seenTimestamp = max(0, now - mark.timestampDelta * 1000)
                try record.update(db)
                changed += 1
            }
            return changed
        }
    }
}
