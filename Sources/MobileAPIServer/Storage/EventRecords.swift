import Foundation
import GRDB
import JSON

/// A custom event definition of one application: its id (what events name), a display
/// name, and its properties with their types.
struct EventDefinitionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "eventDefinition"
    var id: Int64?
    var applicationCode: String
    var definitionId: String
    var name: String
    /// JSON array of `{"name", "type"}`.
    var properties: String
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var propertyList: [EventPropertyDefinition] {
        (JSONValue.parseStored(properties).arrayValue ?? []).compactMap { value in
            guard let name = value["name"]?.stringValue, let typeName = value["type"]?.stringValue,
                let type = EventPropertyType(rawValue: typeName)
            else { return nil }
            return EventPropertyDefinition(name: name, type: type)
        }
    }

    var json: JSONValue {
        [
            "definitionId": .string(definitionId), "name": .string(name),
            "properties": .array(propertyList.map(\.json)), "createdAt": .string(Timestamp.iso8601(createdAt)),
        ]
    }
}

/// A custom event as it arrived, with the person its installation belonged to then.
/// No foreign key to the person: the attribution is history and outlives the person.
struct CustomEventRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "customEvent"
    var id: Int64?
    var applicationCode: String
    var definitionId: String
    /// As sent (ISO 8601).
    var date: String
    /// JSON object, as sent.
    var properties: String
    var pushRegId: String
    var personId: Int64
    var externalUserId: String?
    var valid: Bool
    var invalidReason: String?
    var receivedAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var json: JSONValue {
        var json: JSONObject = [
            "id": .number(JSONNumber(Int(id ?? 0))), "definitionId": .string(definitionId), "date": .string(date),
            "properties": JSONValue.parseStored(properties), "pushRegId": .string(pushRegId),
            "personId": .number(JSONNumber(Int(personId))),
            "externalUserId": externalUserId.map(JSONValue.string) ?? .null, "valid": .bool(valid),
        ]
        if let invalidReason { json["invalidReason"] = .string(invalidReason) }
        json["receivedAt"] = .string(Timestamp.iso8601(receivedAt))
        return .object(json)
    }
}
