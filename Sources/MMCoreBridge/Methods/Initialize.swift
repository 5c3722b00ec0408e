import JSONRPC
import MMCoreEngine
import JSON

/// `init(configuration)`: accepts the wrappers' configuration and loads the state.
public struct Initialize: BridgeMethod {
    public static let name = Call.initialize.rawValue
    public static let parameterNames = ["configuration"]
    public let configuration: Configuration

    public init(arguments: BridgeArguments) throws {
        configuration = try Configuration(json: arguments.require("configuration"))
    }

    public func admit(on session: Session) throws -> Admission {
        try session.start(configuration)
        return .answered(.null)
    }
}
