import JSON

/// `saveUser(userData)`: sends what differs from the server's copy; answers the user as
/// the server holds it afterwards.
public struct SaveUser: BridgeMethod {
    public static let name = "saveUser"
    public static let parameterNames = ["userData"]
    let update: RecordUpdate<UserData>

    public init(arguments: BridgeArguments) throws {
        update = try UserData.update(from: arguments.require("userData"))
    }

    public func admit(on session: isolated Session) -> Admitted { session.admitSaveUser(update) }
}
