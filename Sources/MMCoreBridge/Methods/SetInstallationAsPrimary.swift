import JSONRPC
import MMCoreEngine
import JSON

/// `setInstallationAsPrimary(pushRegistrationId, primary)`: answers the person's installations.
public struct SetInstallationAsPrimary: BridgeMethod {
    public static let name = Call.setInstallationAsPrimary.rawValue
    public static let parameterNames = ["pushRegistrationId", "primary"]
    let pushRegistrationId: String
    let primary: Bool

    public init(arguments: BridgeArguments) throws {
        pushRegistrationId = try arguments.identifier("pushRegistrationId")
        let primary = try arguments.require("primary")
        guard case .bool(let isPrimary) = primary else {
            throw InvalidParameter(field: "primary", reason: "must be a boolean, got \(primary.typeName)")
        }
        self.primary = isPrimary
    }

    public func admit(on session: Session) throws -> Admission {
        .running(try session.admitSetInstallationAsPrimary(pushRegistrationId, primary: primary))
    }
}
