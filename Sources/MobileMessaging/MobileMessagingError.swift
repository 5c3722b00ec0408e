import JSON
import UserDataJWT

/// An error a bridge method reports to the wrapper.
///
/// `code` is what wrapper apps switch on (the contract fixes the strings), `description`
/// is for people, `domain` tells the core's own codes from the server's, and
/// `numericCode` is the stable integer the JSON-RPC layer puts in `error.code`.
/// Nothing here ever holds a user-data JWT.
public struct MobileMessagingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The string codes of the core itself (server codes are the server's `messageId`).
    public enum Code {
        public static let notInitialized = "NOT_INITIALIZED"
        public static let invalidConfiguration = "INVALID_CONFIGURATION"
        public static let noRegistration = "NO_REGISTRATION"
        public static let jwtStructureInvalid = "JWT_TOKEN_STRUCTURE_INVALID"
        public static let jwtExpired = "JWT_TOKEN_EXPIRED"
        public static let authenticationPaused = "AUTHENTICATION_PAUSED"
        public static let networkError = "NETWORK_ERROR"
        public static let timeout = "TIMEOUT"
        /// A server answer that is not the Mobile API's shape (a proxy's HTML page, an
        /// empty or truncated body); `httpStatus` says what the server answered.
        public static let unexpectedResponse = "UNEXPECTED_RESPONSE"
        public static let stateLocked = "STATE_LOCKED"
        public static let stateCorrupted = "STATE_CORRUPTED"
        /// The state directory cannot be created, read or written (permissions, disk).
        public static let stateUnavailable = "STATE_UNAVAILABLE"
    }

    public enum Domain {
        /// The core's own codes and the client-side JWT checks.
        public static let core = "com.mobile-messaging"
        /// Codes the Mobile API returned (`requestError.serviceException.messageId`).
        public static let backend = "com.mobile-messaging.backend"
    }

    /// What apps switch on, e.g. `JWT_TOKEN_EXPIRED` or the server's `USER_DATA_RESTRICTED`.
    public let code: String
    public let description: String
    public let domain: String
    /// The HTTP status when the error came from a server response.
    public let httpStatus: Int?
    /// `true` when the change was kept and will be retried later.
    public var pending: Bool
    /// The server's `Retry-After` in seconds (429/503), honoured by the sync queue; not
    /// part of `data`.
    public var retryAfterSeconds: Double?
    /// The integer for JSON-RPC `error.code` (see ``numericCode(for:domain:)``).
    public let numericCode: Int

    public init(code: String, description: String, domain: String = Domain.core, httpStatus: Int? = nil, pending: Bool = false) {
        self.code = code
        self.description = description
        self.domain = domain
        self.httpStatus = httpStatus
        self.pending = pending
        self.numericCode = Self.numericCode(for: code, domain: domain)
    }

    /// The stable integer table: 1001-1099 session, 1101-1199 authorization, 1201-1299
    /// transport, 1300 anything the server said (its own code is in `data.code`, and
    /// `UNEXPECTED_RESPONSE` when it said something unreadable), 1401-1499 local state.
    public static func numericCode(for code: String, domain: String) -> Int {
        guard domain == Domain.core else { return 1300 }
        switch code {
        case Code.notInitialized: return 1001
        case Code.invalidConfiguration: return 1002
        case Code.noRegistration: return 1003
        case Code.jwtStructureInvalid: return 1101
        case Code.jwtExpired: return 1102
        case Code.authenticationPaused: return 1103
        case Code.networkError: return 1201
        case Code.timeout: return 1202
        case Code.stateLocked: return 1401
        case Code.stateCorrupted: return 1402
        case Code.stateUnavailable: return 1403
        default: return 1300
        }
    }

    /// `{code, description, domain, httpStatus?, pending?}`: the JSON-RPC `error.data`,
    /// which is also what Cordova and React Native error callbacks receive.
    public var data: JSONValue {
        var object: JSONObject = ["code": .string(code), "description": .string(description), "domain": .string(domain)]
        if let httpStatus { object["httpStatus"] = .number(JSONNumber(httpStatus)) }
        if pending { object["pending"] = true }
        return .object(object)
    }

    /// Whether the server refused the request's credentials: HTTP 401, or a
    /// `messageId` of the `ACCESS_TOKEN_` family (whatever status it came with).
    public var isAuthenticationRejection: Bool {
        domain == Domain.backend && (httpStatus == 401 || code.hasPrefix("ACCESS_TOKEN_"))
    }
}

// MARK: - Factories

extension MobileMessagingError {
    static let notInitialized = MobileMessagingError(
        code: Code.notInitialized, description: "The session is not initialized: call init with a configuration first.")

    static func invalidConfiguration(_ field: String, _ reason: String) -> MobileMessagingError {
        MobileMessagingError(code: Code.invalidConfiguration, description: "Invalid configuration: \(field) \(reason).")
    }

    static func noRegistration(_ detail: String) -> MobileMessagingError {
        MobileMessagingError(code: Code.noRegistration, description: detail)
    }

    /// A client-side JWT refusal, with exactly the wrappers' code and message.
    static func jwt(_ error: UserDataJWTError) -> MobileMessagingError {
        MobileMessagingError(code: error.code.rawValue, description: error.description)
    }

    static func network(_ detail: String) -> MobileMessagingError {
        MobileMessagingError(code: Code.networkError, description: "The Mobile API could not be reached: \(detail).")
    }

    static func timeout(seconds: Double) -> MobileMessagingError {
        MobileMessagingError(
            code: Code.timeout, description: "The Mobile API did not answer within \(formatSeconds(seconds)) seconds.")
    }

    static func unexpectedResponse(status: Int?, _ detail: String) -> MobileMessagingError {
        MobileMessagingError(code: Code.unexpectedResponse, description: detail, httpStatus: status)
    }

    static func backend(messageId: String, text: String, status: Int) -> MobileMessagingError {
        MobileMessagingError(code: messageId, description: text, domain: Domain.backend, httpStatus: status)
    }

    static func authenticationPaused(_ failures: Int) -> MobileMessagingError {
        MobileMessagingError(
            code: Code.authenticationPaused,
            description: "JWT calls are paused after \(failures) consecutive authentication failures; set a new token with setUserDataJwt (or restart the session) to resume. No request was sent.")
    }

    static func stateLocked(_ path: String) -> MobileMessagingError {
        MobileMessagingError(
            code: Code.stateLocked,
            description: "The state directory \(path) is in use by another process; stop that process or use another state directory.")
    }

    static func stateCorrupted(movedTo path: String, _ reason: String) -> MobileMessagingError {
        MobileMessagingError(
            code: Code.stateCorrupted,
            description: "The state file could not be read (\(reason)); it was moved aside to \(path). Call init again to start with a clean state.")
    }

    static func stateUnavailable(_ detail: String) -> MobileMessagingError {
        MobileMessagingError(code: Code.stateUnavailable, description: "The state directory cannot be used: \(detail).")
    }

    /// Whether the same request may succeed later unchanged: no answer, a 5xx, or 429
    /// (too many requests). Other 4xx refusals are final.
    var isTransient: Bool {
        switch code {
        case Code.networkError, Code.timeout: return true
        default: return (httpStatus ?? 0) >= 500 || httpStatus == 429
        }
    }

    /// A client-side refusal of the token (`JWT_TOKEN_*`): like a server rejection, a
    /// queued change waits for a new token rather than being retried.
    var isClientTokenRefusal: Bool {
        domain == Domain.core && (code == Code.jwtExpired || code == Code.jwtStructureInvalid)
    }

    /// This error marked as kept for a later retry (`data.pending: true`).
    var markedPending: MobileMessagingError {
        var copy = self
        copy.pending = true
        return copy
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() && abs(seconds) < 1e9 ? String(Int(seconds)) : String(seconds)
}

/// Input that does not have the shape a bridge method needs; the JSON-RPC layer answers
/// it with -32602 (Invalid params). `field` is the path of the offending value, e.g.
/// `userData.birthday` or `context.userIdentity.phones[1]`, so the caller can fix it.
/// Values are never echoed (they may be personal data); their JSON type is.
public struct InvalidParameter: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// E.g. `Invalid params: userData.gender must be "Male" or "Female"`.
    public var description: String { "Invalid params: \(field) \(reason)" }

    /// `{field, reason}` for the JSON-RPC error's `data`.
    public var data: JSONValue { ["field": .string(field), "reason": .string(reason)] }
}
