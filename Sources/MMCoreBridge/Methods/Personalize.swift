import JSONRPC
import MMCoreEngine
import JSON

/// `personalize(context)`: makes this installation belong to the person identified by
/// `context.userIdentity`.
public struct Personalize: BridgeMethod {
    public static let name = Call.personalize.rawValue
    public static let parameterNames = ["context"]
    let context: PersonalizeContext

    public init(arguments: BridgeArguments) throws {
        context = try PersonalizeContext(wrapper: arguments.require("context"))
    }

    public func admit(on session: Session) throws -> Admission { .running(try session.admitPersonalize(context)) }
}
