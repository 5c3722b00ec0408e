import JSONRPC
import MMCoreEngine
import JSON

/// `saveInstallation(installation)`: sends what differs from the server's copy.
public struct SaveInstallation: BridgeMethod {
    public static let name = Call.saveInstallation.rawValue
    public static let parameterNames = ["installation"]
    let update: InstallationChange

    public init(arguments: BridgeArguments) throws {
        update = try InstallationChange(wrapper: arguments.require("installation"))
    }

    public func admit(on session: Session) throws -> Admission { .running(try session.admitSaveInstallation(update)) }
}
