import JSON

/// One event of a `POST .../user/events/custom` body, well-formed (its fit to the
/// application's definitions is ``EventCheck``'s question).
struct SubmittedEvent: Sendable {
    var definitionId: String
    /// ISO 8601 date-time, as sent.
    var date: String
    var properties: JSONObject

    /// `{"events": [{"definitionId", "date", "properties"?}]}`. Anything else is malformed,
    /// whatever `validate` says: such a body cannot be stored even as an invalid event.
    static func batch(_ body: JSONObject) throws(ServiceError) -> [SubmittedEvent] {
        try FieldReader(body).rejectUnknown(allowed: ["events"])
        guard let value = body["events"] else { throw .requestFormatInvalid("events is required") }
        guard let array = value.arrayValue else {
            throw .requestFormatInvalid("events must be an array, got \(value.typeName)")
        }
        guard array.count <= Limits.eventsPerRequest else {
            throw .requestFormatInvalid("events has more than \(Limits.eventsPerRequest) entries")
        }
        var events: [SubmittedEvent] = []
        for (index, element) in array.enumerated() {
            events.append(try SubmittedEvent(element, field: "events[\(index)]"))
        }
        return events
    }

    init(_ value: JSONValue, field: String) throws(ServiceError) {
        guard let object = value.objectValue else {
            throw .requestFormatInvalid("\(field) must be an object, got \(value.typeName)")
        }
        let reader = FieldReader(object, prefix: field + ".")
        try reader.rejectUnknown(allowed: ["definitionId", "date", "properties"])
        guard let id = object["definitionId"] else { throw .requestFormatInvalid("\(field).definitionId is required") }
        definitionId = try Validate.nonEmptyString(id, field: "\(field).definitionId")
        guard let dateValue = object["date"] else { throw .requestFormatInvalid("\(field).date is required") }
        date = try Validate.string(dateValue, field: "\(field).date")
        guard ISODate.isDateTime(date) else {
            throw .requestFormatInvalid("\(field).date must be an ISO 8601 date-time such as 2026-02-26T09:41:57Z, got \(date)")
        }
        properties = JSONObject()
        if let value = object["properties"], !value.isNull {
            guard let properties = value.objectValue else {
                throw .requestFormatInvalid("\(field).properties must be an object, got \(value.typeName)")
            }
            guard properties.count <= Limits.count else {
                throw .requestFormatInvalid("\(field).properties has more than \(Limits.count) entries")
            }
            self.properties = properties
        }
    }
}

/// Why an event does not fit its application's definitions.
enum EventProblem: Sendable, Equatable, CustomStringConvertible {
    case unknownDefinition(definitionId: String)
    case undefinedProperty(definitionId: String, property: String)
    /// The value is not of the property's type (`reason` says how).
    case invalidValue(definitionId: String, property: String, reason: String)

    var description: String {
        switch self {
        case .unknownDefinition(let id):
            "No event definition \(id) in this application"
        case .undefinedProperty(let id, let property):
            "Event definition \(id) has no property \(property)"
        case .invalidValue(let id, let property, let reason):
            "Property \(property) of event \(id): \(reason)"
        }
    }
}

/// Checks events against definitions. Pure: the store gives it the definitions it read
/// in the same transaction that stores the events.
enum EventCheck {
    /// The first problem of `event`, properties in the order sent; `nil` when it fits.
    static func problem(
        _ event: SubmittedEvent, definitions: [String: [EventPropertyDefinition]]
    ) -> EventProblem? {
        guard let properties = definitions[event.definitionId] else {
            return .unknownDefinition(definitionId: event.definitionId)
        }
        for member in event.properties {
            guard let definition = properties.first(where: { $0.name == member.key }) else {
                return .undefinedProperty(definitionId: event.definitionId, property: member.key)
            }
            if let reason = mismatch(member.value, definition.type) {
                return .invalidValue(definitionId: event.definitionId, property: member.key, reason: reason)
            }
        }
        return nil
    }

    /// Why `value` is not a `type`, or `nil` when it is.
    static func mismatch(_ value: JSONValue, _ type: EventPropertyType) -> String? {
        let expected = "expected \(type.rawValue), got \(value.typeName)"
        switch (type, value) {
        case (.string, .string(let text)):
            return text.count <= Limits.customAttributeStringLength
                ? nil : "longer than \(Limits.customAttributeStringLength) characters"
        case (.number, .number(let number)):
            return number.doubleValue.isFinite ? nil : "not a finite number"
        case (.boolean, .bool):
            return nil
        case (.date, .string(let text)):
            return ISODate.isDateOrDateTime(text) ? nil : "expected date (yyyy-MM-dd or ISO 8601 date-time), got \(text)"
        case (.list, .array(let items)):
            return listMismatch(items)
        default:
            return expected
        }
    }

    /// A list holds at most ``Limits/count`` objects of at most ``Limits/listObjectKeys``
    /// members, each a string, number or boolean.
    static func listMismatch(_ items: [JSONValue]) -> String? {
        guard items.count <= Limits.count else { return "more than \(Limits.count) items" }
        for (index, item) in items.enumerated() {
            guard let object = item.objectValue else {
                return "item \(index) must be an object (a list holds objects), got \(item.typeName)"
            }
            guard object.count <= Limits.listObjectKeys else {
                return "item \(index) has more than \(Limits.listObjectKeys) keys"
            }
            for member in object {
                switch member.value {
                case .string(let text) where text.count <= Limits.customAttributeStringLength: continue
                case .number(let number) where number.doubleValue.isFinite: continue
                case .bool: continue
                default: return "item \(index).\(member.key) must be a string, number or boolean"
                }
            }
        }
        return nil
    }
}
