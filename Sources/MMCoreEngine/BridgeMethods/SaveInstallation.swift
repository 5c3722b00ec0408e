import JSON

/// `saveInstallation(installation)`: sends what differs from the server's copy.
public struct SaveInstallation: BridgeMethod {
    public static let name = "saveInstallation"
    public static let parameterNames = ["installation"]
    let update: RecordUpdate<Installation>

    public init(arguments: BridgeArguments) throws {
        update = try Installation.update(from: arguments.require("installation"))
    }

    public func admit(on session: isolated Session) -> Admitted { session.admitSaveInstallation(update) }
}
