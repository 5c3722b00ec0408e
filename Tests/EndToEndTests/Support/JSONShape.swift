import JSON

/// Compares what an example or a transcript shows with what mmcore answered, "in shape":
/// every member an expected object shows must be there with a matching value (members it
/// does not show may vary: ids, versions), arrays match element by element, scalars are
/// equal. Strings `${name}` are placeholders: the first occurrence binds the actual value,
/// later ones must equal it; `${*}` matches anything.
struct JSONShape {
    var bindings: [String: JSONValue] = [:]

    /// Where `actual` differs from `expected`, as `path: why` lines (empty when it matches).
    mutating func mismatches(expected: JSONValue, actual: JSONValue, path: String = "$") -> [String] {
        if let name = Self.placeholder(expected) {
            if name == "*" { return [] }
            if let bound = bindings[name] {
                return bound == actual ? [] : ["\(path): ${\(name)} is \(bound.serialized), got \(actual.serialized)"]
            }
            bindings[name] = actual
            return []
        }
        switch (expected, actual) {
        case (.object(let want), .object(let got)):
            return want.keys.flatMap { key -> [String] in
                guard let value = got[key] else { return ["\(path).\(key): missing"] }
                return mismatches(expected: want[key] ?? .null, actual: value, path: "\(path).\(key)")
            }
        case (.array(let want), .array(let got)):
            guard want.count == got.count else {
                return ["\(path): \(want.count) elements expected, got \(got.count): \(actual.serialized.prefix(300))"]
            }
            return zip(want, got).enumerated().flatMap { index, pair in
                mismatches(expected: pair.0, actual: pair.1, path: "\(path)[\(index)]")
            }
        default:
            return expected == actual ? [] : ["\(path): expected \(expected.serialized), got \(actual.serialized.prefix(300))"]
        }
    }

    /// `value` with every bound `${name}` string replaced by its value.
    func substituted(_ value: JSONValue) throws -> JSONValue {
        if let name = Self.placeholder(value) {
            guard let bound = bindings[name] else { throw CoreProcess.Failure(description: "${\(name)} is not bound yet") }
            return bound
        }
        switch value {
        case .object(let object):
            return .object(JSONObject(try object.members.map { ($0.key, try substituted($0.value)) }))
        case .array(let array):
            return .array(try array.map(substituted))
        default:
            return value
        }
    }

    private static func placeholder(_ value: JSONValue) -> String? {
        guard let text = value.stringValue, text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return nil }
        return String(text.dropFirst(2).dropLast())
    }
}

/// Replaces every string equal to a key of `table` by its value (the schema examples'
/// literal ids and URLs by the live ones).
func replacingLiterals(_ value: JSONValue, _ table: [String: JSONValue]) -> JSONValue {
    switch value {
    case .string(let text): table[text] ?? value
    case .object(let object): .object(JSONObject(object.members.map { ($0.key, replacingLiterals($0.value, table)) }))
    case .array(let array): .array(array.map { replacingLiterals($0, table) })
    default: value
    }
}
