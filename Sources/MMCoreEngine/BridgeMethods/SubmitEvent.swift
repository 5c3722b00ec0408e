import JSON

/// `submitEvent(event)`: checks the event, keeps it on disk stamped with the time of the
/// call, answers `null`, and sends it later in a batch (see `Session+Events.swift`).
public struct SubmitEvent: BridgeMethod {
    public static let name = "submitEvent"
    public static let parameterNames = ["event"]
    let event: CustomEventInput

    public init(arguments: BridgeArguments) throws {
        event = try CustomEventInput(wrapper: arguments.require("event"), path: "event")
    }

    public func admit(on session: isolated Session) -> Admitted { session.admitSubmitEvent(event) }
}
