import JSON
import JSONRPC
import MMCoreEngine

/// Serves every method of the bridge contract (``BridgeMethods/all``): the JSON-RPC
/// layer names the positional parameters, the method type decodes them once, and the
/// session admits the call in the order the lines were read.
public func registerMethods(into registry: inout MethodRegistry, session: Session) {
    for method in BridgeMethods.all {
        registry.register(admitting: method.name, parameters: method.parameterNames) { parameters in
            let call = try method.init(arguments: BridgeArguments(parameters.namedValues))
            switch await call.admit(on: session) {
            case .answered(let result): return .answered(try result.get())
            case .queued(let task): return .running { try await task.value }
            }
        }
    }
}

// MARK: - Errors on the wire

/// `{"code": <numeric>, "message": <description>, "data": {code, description, domain, ...}}`:
/// what Cordova/React Native error callbacks receive as `data`, and Flutter raises as
/// `PlatformException(code: data.code, message: data.description, details: data)`.
extension MobileMessagingError: JSONRPCErrorConvertible {
    public var jsonRPCError: JSONRPCError {
        JSONRPCError(code: JSONRPCError.Code(rawValue: numericCode), message: description, data: data)
    }
}

/// Malformed input is the caller's bug, not a state of the app: -32602 naming the field.
extension InvalidParameter: JSONRPCErrorConvertible {
    public var jsonRPCError: JSONRPCError {
        JSONRPCError.invalidParams(field: field, reason)
    }
}

// MARK: - Core -> wrapper

/// Forwards the session's events as `event` notifications.
public struct NotificationEventSink: EventSink {
    public let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    public func emit(_ event: MobileMessagingEvent) {
        connection.notify(method: "event", params: event.json)
    }
}

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
