import JSON

/// The properties of a custom event: checked as the plugins document them, and written
/// as the iOS SDK sends them (`CustomEventMapper`, `decodeCustomEventPropertiesJSON`).
///
/// Kinds: a string, a number, a boolean, a date, or a list of objects whose members are
/// strings, numbers or booleans. A date arrives from the plugins as a string: a calendar
/// date `yyyy-MM-dd` is sent as that day at midnight UTC (`2024-03-01T00:00:00Z`, as
/// iOS turns it into a date and writes it with its seconds formatter); a date with a
/// time (`2020-02-26T09:41:57Z`, the plugins' documented form) is sent as written.
/// Anything else (`null`, a nested object, a list of scalars) is refused by name rather
/// than dropped or sent as `null`, which is what Android does with dates-with-time and
/// lists.
enum EventProperties {
    /// The wire form of `input`'s members, or the first problem with its path.
    static func parse(_ input: WireInput) throws(InvalidParameter) -> JSONObject {
        var properties = JSONObject()
        for key in input.object.keys {
            guard let value = input.object[key] else { continue }
            let path = input.fieldPath(key)
            if key.isEmpty { throw InvalidParameter(field: path, reason: "must have a non-empty name") }
            switch value {
            case .string(let text):
                properties[key] = .string(WireCheck.isCalendarDate(text) ? text + "T00:00:00Z" : text)
            case .number, .bool:
                properties[key] = value
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    try checkListElement(element, path: "\(path)[\(index)]")
                }
                properties[key] = value
            case .null, .object:
                throw InvalidParameter(
                    field: path, reason: "must be a string, number, boolean, date or list of objects, got \(value.typeName)")
            }
        }
        return properties
    }

    private static func checkListElement(_ element: JSONValue, path: String) throws(InvalidParameter) {
        guard case .object(let object) = element else {
            throw InvalidParameter(field: path, reason: "must be an object, got \(element.typeName)")
        }
        for member in object {
            switch member.value {
            case .string, .number, .bool: continue
            default:
                throw InvalidParameter(
                    field: "\(path).\(member.key)", reason: "must be a string, number, boolean or date, got \(member.value.typeName)")
            }
        }
    }
}
