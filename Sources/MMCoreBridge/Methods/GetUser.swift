import JSONRPC
import MMCoreEngine

/// `getUser()`: the local user with every change admitted so far applied; no network.
public struct GetUser: BridgeMethod {
    public static let name = Call.getUser.rawValue
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: Session) throws -> Admission { .answered(try session.localUser()) }
}
