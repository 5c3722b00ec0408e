import JSONRPC
import MMCoreEngine

/// `fetchInstallation()`: this installation from the server; refreshes the local copy.
public struct FetchInstallation: BridgeMethod {
    public static let name = Call.fetchInstallation.rawValue
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: Session) throws -> Admission { .running(try session.admitFetchInstallation()) }
}
