import JSONRPC
import MMCoreEngine

/// `submitEvent(event)`: checks the event, keeps it on disk stamped with the time of the
/// call, answers `null`, and sends it later in a batch.
public struct SubmitEvent: BridgeMethod {
    public static let name = Call.submitEvent.rawValue
    public static let parameterNames = ["event"]
    let event: CustomEventInput

    public init(arguments: BridgeArguments) throws {
        event = try CustomEventInput(wrapper: arguments.require("event"), path: "event")
    }

    public func admit(on session: Session) throws -> Admission {
        try session.submitEvent(event)
        return .answered(.null)
    }
}
