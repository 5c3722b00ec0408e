import JSONRPC
import MMCoreEngine

/// `getInstallation()`: the local installation with every change admitted so far applied.
public struct GetInstallation: BridgeMethod {
    public static let name = Call.getInstallation.rawValue
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: Session) throws -> Admission { .answered(try session.localInstallation()) }
}
