import JSON

/// A key of a wrapper object as the caller wrote it: left out, explicitly `null`, or set.
///
/// The difference between the first two is the whole point: a left-out field is left
/// unchanged, an explicit `null` clears it.
enum WireField<Value> {
    case absent
    case null
    case value(Value)

    var value: Value? {
        if case .value(let value) = self { value } else { nil }
    }

    var isMentioned: Bool {
        if case .absent = self { false } else { true }
    }
}

/// Strict reading of wrapper input, naming the path of the first offending value.
///
/// Wrapper input comes from app code, so a wrong type is a programming error the app
/// developer should see at once (as Invalid params), not a silently dropped field.
struct WireInput {
    let object: JSONObject
    /// Where this object sits, e.g. `userData` or `context.userIdentity`.
    let path: String

    init(_ value: JSONValue, path: String) throws(InvalidParameter) {
        guard case .object(let object) = value else {
            throw InvalidParameter(field: path, reason: "must be an object, got \(value.typeName)")
        }
        self.object = object
        self.path = path
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// This input with `alias` read as `key`: a second name a wrapper's typings give a
    /// field. The alias must be a string or `null`; given with `key`, both must agree.
    func renaming(_ alias: String, to key: String) throws(InvalidParameter) -> WireInput {
        guard let value = object[alias] else { return self }
        _ = try string(alias)
        if let existing = object[key], existing != value {
            throw InvalidParameter(field: fieldPath(alias), reason: "names the same field as \(key); give one of them")
        }
        var renamed = object
        renamed[alias] = nil
        renamed[key] = value
        return try WireInput(.object(renamed), path: path)
    }

    /// Refuses keys the method does not know: a typo such as `firstname` would
    /// otherwise be dropped without a word.
    func rejectUnknownKeys(_ known: Set<String>) throws(InvalidParameter) {
        for key in object.keys where !known.contains(key) {
            throw InvalidParameter(field: fieldPath(key), reason: "is not a known field")
        }
    }

    func string(_ key: String) throws(InvalidParameter) -> WireField<String> {
        switch object[key] {
        case nil: return .absent
        case .null?: return .null
        case .string(let text)?: return .value(text)
        case let other?: throw InvalidParameter(field: fieldPath(key), reason: "must be a string, got \(other.typeName)")
        }
    }

    func bool(_ key: String) throws(InvalidParameter) -> WireField<Bool> {
        switch object[key] {
        case nil: return .absent
        case .null?: return .null
        case .bool(let flag)?: return .value(flag)
        case let other?: throw InvalidParameter(field: fieldPath(key), reason: "must be a boolean, got \(other.typeName)")
        }
    }

    func strings(_ key: String) throws(InvalidParameter) -> WireField<[String]> {
        switch object[key] {
        case nil: return .absent
        case .null?: return .null
        case .array(let elements)?:
            var strings: [String] = []
            for (index, element) in elements.enumerated() {
                guard case .string(let text) = element else {
                    throw InvalidParameter(
                        field: "\(fieldPath(key))[\(index)]", reason: "must be a string, got \(element.typeName)")
                }
                strings.append(text)
            }
            return .value(strings)
        case let other?:
            throw InvalidParameter(field: fieldPath(key), reason: "must be an array of strings, got \(other.typeName)")
        }
    }

    func object(_ key: String) throws(InvalidParameter) -> WireField<WireInput> {
        switch object[key] {
        case nil: return .absent
        case .null?: return .null
        case let value?: return .value(try WireInput(value, path: fieldPath(key)))
        }
    }
}

// MARK: - Scalar checks

enum WireCheck {
    static let genders = ["Male", "Female"]

    /// `nil` when `text` is a gender the Mobile API knows, else the reason.
    static func gender(_ text: String) -> String? {
        genders.contains(text) ? nil : "must be \"Male\" or \"Female\""
    }

    /// `nil` when `text` is a real calendar date written `YYYY-MM-DD`, else the reason.
    static func birthday(_ text: String) -> String? {
        isCalendarDate(text) ? nil : "must be a date written YYYY-MM-DD"
    }

    static func isCalendarDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            year >= 1, (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }
}
