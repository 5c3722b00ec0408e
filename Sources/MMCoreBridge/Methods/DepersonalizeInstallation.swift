import JSONRPC
import MMCoreEngine

/// `depersonalizeInstallation(pushRegistrationId)`: detaches the person from another of
/// their installations; answers the person's installations.
public struct DepersonalizeInstallation: BridgeMethod {
    public static let name = Call.depersonalizeInstallation.rawValue
    public static let parameterNames = ["pushRegistrationId"]
    let pushRegistrationId: String

    public init(arguments: BridgeArguments) throws {
        pushRegistrationId = try arguments.identifier("pushRegistrationId")
    }

    public func admit(on session: Session) throws -> Admission { .running(try session.admitDepersonalizeInstallation(pushRegistrationId)) }
}
