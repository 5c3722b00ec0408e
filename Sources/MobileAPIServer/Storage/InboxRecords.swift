import Foundation
import GRDB
import JSON

/// A message in the inbox of one external user id of one application. The inbox is keyed
/// by the external user id, not by a person row: the service keeps an inbox for an id
/// whether or not an installation was ever personalized with it.
struct InboxMessageRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "inboxMessage"
    var messageId: String
    var applicationCode: String
    var externalUserId: String
    var title: String?
    var body: String
    var topic: String
    var sound: String?
    var vibrate: Bool
    var silent: Bool
    /// JSON object.
    var customPayload: String
    /// Epoch milliseconds.
    var sentTimestamp: Int64
    var seen: Bool
    /// Epoch milliseconds, from the first seen mark.
    var seenTimestamp: Int64?

    var customPayloadObject: JSONObject {
        JSONValue.parseStored(customPayload).objectValue ?? JSONObject()
    }

    /// The admin API's form: every field by its plain name.
    var adminJSON: JSONValue {
        var json: JSONObject = ["messageId": .string(messageId), "externalUserId": .string(externalUserId)]
        if let title { json["title"] = .string(title) }
        json["body"] = .string(body)
        json["topic"] = .string(topic)
        if let sound { json["sound"] = .string(sound) }
        json["vibrate"] = .bool(vibrate)
        json["silent"] = .bool(silent)
        json["customPayload"] = .object(customPayloadObject)
        json["sentTimestamp"] = .number(JSONNumber(Int(sentTimestamp)))
        json["seen"] = .bool(seen)
        if let seenTimestamp { json["seenTimestamp"] = .number(JSONNumber(Int(seenTimestamp))) }
        return .object(json)
    }
}
