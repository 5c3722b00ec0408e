import JSONRPC
import MMCoreEngine
import JSON

/// `saveUser(userData)`: sends what differs from the server's copy; answers the user as
/// the server holds it afterwards.
public struct SaveUser: BridgeMethod {
    public static let name = Call.saveUser.rawValue
    public static let parameterNames = ["userData"]
    let update: UserDataChange

    public init(arguments: BridgeArguments) throws {
        update = try UserDataChange(wrapper: arguments.require("userData"))
    }

    public func admit(on session: Session) throws -> Admission { .running(try session.admitSaveUser(update)) }
}
