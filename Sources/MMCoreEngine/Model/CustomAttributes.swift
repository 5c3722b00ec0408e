import JSON

/// Custom attributes of a user or an installation: a JSON object whose values are
/// strings (dates and datetimes are written as strings), numbers, booleans, or lists
/// of objects with scalar members, which is what the Mobile API stores.
enum CustomAttributes {
    /// Reads wrapper input. A member set to `null` means "delete this attribute"; it is
    /// returned in `deleted` rather than kept as a value.
    static func parse(_ input: WireInput) throws(InvalidParameter) -> (values: JSONObject, deleted: [String]) {
        var values = JSONObject()
        var deleted: [String] = []
        for key in input.object.keys {
            guard let value = input.object[key] else { continue }
            let path = input.fieldPath(key)
            if key.isEmpty { throw InvalidParameter(field: path, reason: "must have a non-empty name") }
            switch value {
            case .null: deleted.append(key)
            case .string, .number, .bool: values[key] = value
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    try checkListElement(element, path: "\(path)[\(index)]")
                }
                values[key] = value
            case .object:
                throw InvalidParameter(
                    field: path, reason: "must be a string, number, boolean or list of objects, got an object")
            }
        }
        return (values, deleted)
    }

    private static func checkListElement(_ element: JSONValue, path: String) throws(InvalidParameter) {
        guard case .object(let object) = element else {
            throw InvalidParameter(field: path, reason: "must be an object, got \(element.typeName)")
        }
        for member in object {
            switch member.value {
            case .string, .number, .bool, .null: continue
            default:
                throw InvalidParameter(
                    field: "\(path).\(member.key)", reason: "must be a string, number or boolean, got \(member.value.typeName)")
            }
        }
    }

    /// Reads the server's (or the state file's) attributes without judging them: the
    /// server is the authority on what it stores. Null members carry nothing and are dropped.
    static func lenient(_ value: JSONValue?) -> JSONObject? {
        guard case .object(let object)? = value else { return nil }
        var result = JSONObject()
        for key in object.keys {
            if let member = object[key], !member.isNull { result[key] = member }
        }
        return result
    }

    /// `changes` merged into `attributes` key by key, as the Mobile API stores them: a
    /// key left out is kept, a key given is replaced. A `null` member deletes the key
    /// when `nullDeletes` (the result of a PATCH), else is kept as the deletion it asks
    /// for (a PATCH body folded into another).
    static func merging(_ changes: JSONObject, into attributes: JSONObject, nullDeletes: Bool) -> JSONObject {
        var merged = attributes
        for member in changes {
            merged[member.key] = nullDeletes && member.value.isNull ? JSONValue?.none : member.value
        }
        return merged
    }
}
