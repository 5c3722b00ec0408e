import JSONRPC
import MMCoreEngine
import JSON

/// `setUserDataJwt(jwt)`: `null` or `""` clears the token; any other string is kept and
/// checked when a call needs it. Takes effect at once, for calls still waiting their turn too.
public struct SetUserDataJwt: BridgeMethod {
    public static let name = Call.setUserDataJwt.rawValue
    public static let parameterNames = ["jwt"]
    public let jwt: String?

    public init(arguments: BridgeArguments) throws {
        switch arguments["jwt"] ?? .null {
        case .null: jwt = nil
        case .string(let text): jwt = text
        case let other: throw InvalidParameter(field: "jwt", reason: "must be a string or null, got \(other.typeName)")
        }
    }

    public func admit(on session: Session) throws -> Admission {
        try session.setToken(jwt)
        return .answered(.null)
    }
}
