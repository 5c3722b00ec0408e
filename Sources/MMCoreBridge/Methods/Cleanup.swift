import JSONRPC
import MMCoreEngine

/// `cleanup()`: forgets the installation, the user, the token and pending work, and stops
/// the session until the next `init`.
public struct Cleanup: BridgeMethod {
    public static let name = Call.cleanup.rawValue
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: Session) throws -> Admission {
        try session.cleanUp()
        return .answered(.null)
    }
}
