import JSON

/// A method's parameters, normalised once from `params` given by position or by name.
///
/// Lookups are by the names the method was registered with. By position, element `i` is
/// the `i`-th declared name and missing trailing elements are absent. By name, declared
/// names are taken and other members are ignored, as the wrappers' objects may carry keys
/// of newer versions. An explicit `null` is present (`.null`), not absent.
///
/// The typed getters throw ``JSONRPCError/invalidParams(field:_:)`` naming the field.
public struct Parameters: Sendable {
    public let method: String
    private let values: JSONObject

    public init(method: String, values: JSONObject) {
        self.method = method
        self.values = values
    }

    /// The parameter's value, `nil` when absent.
    public subscript(name: String) -> JSONValue? { values[name] }

    /// The values that were given, by name, in declaration order.
    public var namedValues: JSONObject { values }

    /// The names that were given, in declaration order.
    public var names: [String] { values.keys }

    /// The parameter's value (possibly `null`); throws when it is absent.
    public func require(_ name: String) throws(JSONRPCError) -> JSONValue {
        guard let value = values[name] else { throw .invalidParams(field: name, "is required") }
        return value
    }

    public func string(_ name: String) throws(JSONRPCError) -> String {
        let value = try require(name)
        guard case .string(let string) = value else { throw Self.wrongType(name, "a string", value) }
        return string
    }

    /// A string, or `nil` when absent or `null`.
    public func optionalString(_ name: String) throws(JSONRPCError) -> String? {
        guard let value = values[name], !value.isNull else { return nil }
        guard case .string(let string) = value else { throw Self.wrongType(name, "a string or null", value) }
        return string
    }

    public func bool(_ name: String) throws(JSONRPCError) -> Bool {
        let value = try require(name)
        guard case .bool(let bool) = value else { throw Self.wrongType(name, "a boolean", value) }
        return bool
    }

    /// A boolean, or `nil` when absent or `null`.
    public func optionalBool(_ name: String) throws(JSONRPCError) -> Bool? {
        guard let value = values[name], !value.isNull else { return nil }
        guard case .bool(let bool) = value else { throw Self.wrongType(name, "a boolean or null", value) }
        return bool
    }

    public func int(_ name: String) throws(JSONRPCError) -> Int {
        let value = try require(name)
        guard let int = value.numberValue?.intValue else { throw Self.wrongType(name, "an integer", value) }
        return int
    }

    public func object(_ name: String) throws(JSONRPCError) -> JSONObject {
        let value = try require(name)
        guard case .object(let object) = value else { throw Self.wrongType(name, "an object", value) }
        return object
    }

    /// An object, or `nil` when absent or `null`.
    public func optionalObject(_ name: String) throws(JSONRPCError) -> JSONObject? {
        guard let value = values[name], !value.isNull else { return nil }
        guard case .object(let object) = value else { throw Self.wrongType(name, "an object or null", value) }
        return object
    }

    public func array(_ name: String) throws(JSONRPCError) -> [JSONValue] {
        let value = try require(name)
        guard case .array(let array) = value else { throw Self.wrongType(name, "an array", value) }
        return array
    }

    private static func wrongType(_ name: String, _ expected: String, _ value: JSONValue) -> JSONRPCError {
        .invalidParams(field: name, "must be \(expected), got \(value.typeName)")
    }
}
