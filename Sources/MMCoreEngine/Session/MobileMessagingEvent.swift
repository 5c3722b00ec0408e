import JSON

/// A notification from the core to the wrapper: `{eventName, payload}`, the pair the
/// Flutter broadcast channel carries and Cordova/React Native receivers re-emit.
public struct MobileMessagingEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Name: String, Sendable, CaseIterable {
        /// Payload: the pushRegistrationId (a string) the server gave this installation.
        case registrationUpdated
        /// Payload: the installation, after a save or fetch changed it.
        case installationUpdated
        /// Payload: the user, after a save or fetch changed it.
        case userUpdated
        /// Payload: the user, after personalize succeeded.
        case personalized
        /// Payload: null; depersonalize completed, at once or later.
        case depersonalized
        /// Payload: `{code, description, method}`; the server refused the credentials.
        case authenticationError
        /// Payload: `{count, reason}` (`reason`: the error's `data`); the server refused a
        /// batch of held custom events for good (a 4xx), so they were dropped.
        case customEventsDropped
    }

    public let name: Name
    /// In the wrappers' shape; never holds a token.
    public let payload: JSONValue

    public init(name: Name, payload: JSONValue) {
        self.name = name
        self.payload = payload
    }

    /// `{"eventName": ..., "payload": ...}`: the params of the JSON-RPC `event` notification.
    public var json: JSONValue { ["eventName": .string(name.rawValue), "payload": payload] }

    public var description: String { json.serialized }
}

/// Where the session delivers events.
///
/// Called synchronously on the ``EngineActor``, in the order events happen; an
/// implementation must not block (hand the event to a writer queue or an
/// `AsyncStream` continuation and return).
public protocol EventSink: Sendable {
    func emit(_ event: MobileMessagingEvent)
}

/// An ``EventSink`` made from a closure, for the executable and tests.
public struct ClosureEventSink: EventSink {
    private let handler: @Sendable (MobileMessagingEvent) -> Void

    public init(_ handler: @escaping @Sendable (MobileMessagingEvent) -> Void) {
        self.handler = handler
    }

    public func emit(_ event: MobileMessagingEvent) { handler(event) }
}
