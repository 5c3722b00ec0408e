import JSON
import JSONRPC
import MMCoreEngine

/// Forwards the session's events to the wrapper as `event` notifications.
public struct NotificationEventSink: EventSink {
    public let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    public func emit(_ event: MobileMessagingEvent) {
        connection.notify(method: "event", params: event.json)
    }
}
