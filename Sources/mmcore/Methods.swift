import JSON
import JSONRPC
import MobileMessaging

/// The bridge contract's methods: name, parameter names in positional order (the order
/// the wrappers' native bridges pass them), and the session call that serves them.
/// `schema/openrpc.json` lists the same names in the same order; a test keeps the two equal.
let contractMethods: [(name: String, parameters: [String], call: @Sendable (Session, Parameters) async throws -> JSONValue)] = [
    ("init", ["configuration"], { session, p in
        try await session.initialize(p.require("configuration"))
        return .null
    }),
    ("setUserDataJwt", ["jwt"], { session, p in
        try await session.setUserDataJwt(p["jwt"] ?? .null)
        return .null
    }),
    ("saveUser", ["userData"], { session, p in try await session.saveUser(p.require("userData")) }),
    ("fetchUser", [], { session, _ in try await session.fetchUser() }),
    ("getUser", [], { session, _ in try await session.getUser() }),
    ("personalize", ["context"], { session, p in try await session.personalize(p.require("context")) }),
    ("depersonalize", [], { session, _ in try await session.depersonalize() }),
    ("saveInstallation", ["installation"], { session, p in
        try await session.saveInstallation(p.require("installation"))
    }),
    ("fetchInstallation", [], { session, _ in try await session.fetchInstallation() }),
    ("getInstallation", [], { session, _ in try await session.getInstallation() }),
    ("setInstallationAsPrimary", ["pushRegistrationId", "primary"], { session, p in
        try await session.setInstallationAsPrimary(
            pushRegistrationId: p.require("pushRegistrationId"), primary: p.require("primary"))
    }),
    ("depersonalizeInstallation", ["pushRegistrationId"], { session, p in
        try await session.depersonalizeInstallation(pushRegistrationId: p.require("pushRegistrationId"))
    }),
    ("cleanup", [], { session, _ in
        try await session.cleanup()
        return .null
    }),
]

func registerMethods(into registry: inout MethodRegistry, session: Session) {
    for method in contractMethods {
        let call = method.call
        registry.register(method.name, parameters: method.parameters) { parameters in
            try await call(session, parameters)
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
struct NotificationEventSink: EventSink {
    let connection: Connection

    func emit(_ event: MobileMessagingEvent) {
        connection.notify(method: "event", params: event.json)
    }
}

/// The opt-in pull model: asks the wrapper with a `requestUserDataJwt` request and
/// takes a string result as the new token; `null`, an error or a timeout give nothing.
struct WrapperTokenProvider: TokenProvider {
    let connection: Connection
    let timeout: Duration

    func requestToken(reason: TokenRequestReason, externalUserId: String?) async -> String? {
        let params: JSONValue = [
            "reason": .string(reason.rawValue),
            "externalUserId": externalUserId.map(JSONValue.string) ?? .null,
        ]
        let result = try? await connection.request(method: "requestUserDataJwt", params: params, timeout: timeout)
        return result?.stringValue
    }
}
