import JSON
import MMCoreEngine

/// A call's arguments by name (positional ones already named by the JSON-RPC layer); an
/// explicit `null` is present, not absent.
public struct BridgeArguments: Sendable {
    public let values: JSONObject

    public init(_ values: JSONObject = [:]) { self.values = values }

    public subscript(name: String) -> JSONValue? { values[name] }

    /// The value (possibly `null`); absent is an invalid parameter.
    public func require(_ name: String) throws(InvalidParameter) -> JSONValue {
        guard let value = values[name] else { throw InvalidParameter(field: name, reason: "is required") }
        return value
    }

    /// A non-empty `pushRegistrationId`-like string.
    func identifier(_ name: String) throws(InvalidParameter) -> String {
        let value = try require(name)
        guard case .string(let id) = value else {
            throw InvalidParameter(field: name, reason: "must be a string, got \(value.typeName)")
        }
        guard !id.isEmpty else { throw InvalidParameter(field: name, reason: "must not be empty") }
        return id
    }
}
