import JSONRPC
import MMCoreEngine

/// `depersonalize()`: detaches the person from this installation; `"success"` or `"pending"`.
public struct Depersonalize: BridgeMethod {
    public static let name = Call.depersonalize.rawValue
    public static let parameterNames: [String] = []

    public init(arguments: BridgeArguments) {}

    public func admit(on session: Session) throws -> Admission { .running(try session.admitDepersonalize()) }
}
