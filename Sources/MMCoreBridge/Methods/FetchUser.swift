import JSONRPC
import MMCoreEngine

/// `fetchUser()`: the user from the server; refreshes the local copy.
public struct FetchUser: BridgeMethod {
    public static let name = Call.fetchUser.rawValue
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: Session) throws -> Admission { .running(try session.admitFetchUser()) }
}
