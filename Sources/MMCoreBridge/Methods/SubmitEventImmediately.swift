import JSONRPC
import MMCoreEngine

/// `submitEventImmediately(event)`: sends one event with `validate=true` once registered
/// and answers `null` or the server's refusal; nothing is kept for a retry.
public struct SubmitEventImmediately: BridgeMethod {
    public static let name = Call.submitEventImmediately.rawValue
    public static let parameterNames = ["event"]
    let event: CustomEventInput

    public init(arguments: BridgeArguments) throws {
        event = try CustomEventInput(wrapper: arguments.require("event"), path: "event")
    }

    public func admit(on session: Session) throws -> Admission { .running(try session.admitSubmitEventImmediately(event)) }
}
