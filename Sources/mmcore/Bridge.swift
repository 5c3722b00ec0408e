import JSON
import JSONRPC
import Logging

/// What the method table gets from the executable: where state lives, a logger, and the
/// two ways of talking back to the wrapper. The core itself knows nothing of stdio.
struct Bridge: Sendable {
    /// `--state-dir`, when given.
    let stateDirectory: String?
    let logger: Logger
    let connection: Connection

    /// Sends `{"jsonrpc":"2.0","method":"event","params":{"eventName":…,"payload":…}}`.
    func sendEvent(_ eventName: String, payload: JSONValue) {
        connection.notify(method: "event", params: ["eventName": .string(eventName), "payload": payload])
    }

    /// Sends a request of our own to the wrapper (ids `mmcore-<n>`), such as
    /// `requestUserDataJwt`, and waits for its result.
    func request(_ method: String, params: JSONValue, timeout: Duration) async throws -> JSONValue {
        try await connection.request(method: method, params: params, timeout: timeout)
    }
}
