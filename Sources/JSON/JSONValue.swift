/// A JSON document held as a value.
///
/// One type for the whole project: the JSON-RPC layer parses each line into it once,
/// the core converts it to and from its models, and the HTTP client parses response
/// bodies into it. Objects keep their key order so that what we write is stable and
/// readable (`"jsonrpc"` first), and numbers keep their text so that an id such as
/// `1` or `1.50` is echoed exactly as the client sent it.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

// MARK: - Accessors

extension JSONValue {
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { n } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// The member `key` of an object, `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The JSON type's name, for error messages ("expected a string, got a number").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

// MARK: - Equality

extension JSONValue: Equatable {
    /// Structural equality: numbers compare by value (`1` == `1.0`), objects ignore key order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }
}

// MARK: - Number

/// A JSON number, kept as the text it was written with.
public struct JSONNumber: Sendable, CustomStringConvertible {
    /// The number's JSON text, always valid JSON number syntax.
    public let text: String

    public init(_ value: Int) { text = String(value) }

    /// Non-finite values have no JSON form; they are written as `0`.
    public init(_ value: Double) {
        if !value.isFinite {
            text = "0"
        } else if value == value.rounded(), abs(value) < 1e15 {
            text = String(Int64(value))
        } else {
            text = "\(value)"
        }
    }

    /// `text` must already be valid JSON number syntax (the parser guarantees it).
    init(validatedText: String) { text = validatedText }

    public var doubleValue: Double { Double(text) ?? 0 }

    /// The value as an integer when it is one exactly (`3`, `3.0`, `3e0`), else `nil`.
    public var intValue: Int? {
        if let i = Int(text) { return i }
        let d = doubleValue
        guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    public var description: String { text }
}

extension JSONNumber: Equatable {
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        lhs.text == rhs.text || lhs.doubleValue == rhs.doubleValue
    }
}

// MARK: - Object

/// A JSON object that keeps its members in insertion order.
///
/// Lookups scan the members (objects on this surface are small); when a key appears
/// twice in parsed input, the last one wins, as in most JSON parsers.
public struct JSONObject: Sendable, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init() { members = [] }

    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        self.members.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    /// Appends without looking for an existing key: the parser's fast path.
    mutating func appendParsed(_ key: String, _ value: JSONValue) {
        members.append((key, value))
    }

    public subscript(key: String) -> JSONValue? {
        get {
            for member in members.reversed() where member.key == key { return member.value }
            return nil
        }
        set {
            if let index = members.lastIndex(where: { $0.key == key }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.removeAll { $0.key == key }
                }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// The distinct keys, in first-seen order.
    public var keys: [String] {
        var seen = Set<String>()
        return members.compactMap { seen.insert($0.key).inserted ? $0.key : nil }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }
}

extension JSONObject: Equatable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        let keys = lhs.keys
        guard Set(keys) == Set(rhs.keys) else { return false }
        return keys.allSatisfy { lhs[$0] == rhs[$0] }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
