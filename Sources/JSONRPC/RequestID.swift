import JSON

/// The `id` of a JSON-RPC request: a string or a number, echoed exactly as the client
/// wrote it (a number keeps its text, so `1.50` comes back as `1.50`).
///
/// `null` is not a `RequestID`: where a message carries `"id": null` (a request that used
/// it, or an error response to a message whose id could not be read) the id is `nil`.
public enum RequestID: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(JSONNumber)

    /// Reads an id member's value: a string or a number, else `nil`.
    public init?(_ value: JSONValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .number(let n): self = .number(n)
        default: return nil
        }
    }

    public var jsonValue: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .number(let n): .number(n)
        }
    }

    public var description: String { jsonValue.serialized }

    // Numbers compare by value (JSONNumber's equality), so they hash by value too.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let s):
            hasher.combine(0)
            hasher.combine(s)
        case .number(let n):
            hasher.combine(1)
            hasher.combine(n.doubleValue)
        }
    }
}

extension RequestID: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
}
