import JSON
import JSONRPC
import MMCoreEngine

/// The opt-in pull model: asks the wrapper with a `requestUserDataJwt` request and
/// takes a string result as the new token; `null`, an error or a timeout give nothing.
public struct WrapperTokenProvider: TokenProvider {
    public let connection: Connection
    public let timeout: Duration

    public init(connection: Connection, timeout: Duration) {
        self.connection = connection
        self.timeout = timeout
    }

    public func requestToken(reason: TokenRequestReason, externalUserId: String?) async -> String? {
        let params: JSONValue = [
            "reason": .string(reason.rawValue),
            "externalUserId": externalUserId.map(JSONValue.string) ?? .null,
        ]
        let result = try? await connection.request(method: "requestUserDataJwt", params: params, timeout: timeout)
        return result?.stringValue
    }
}
