import JSON
import UserDataJWT

/// An error a bridge method reports to the wrapper.
///
/// `code` is what wrapper apps switch on (the contract fixes the strings), `description`
/// is for people, `domain` tells the core's own codes from the server's, and
/// `numericCode` is the stable integer the JSON-RPC layer puts in `error.code`.
/// Nothing here ever holds a user-data JWT.
public struct MobileMessagingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Domain {
        /// The core's own codes and the client-side JWT checks.
        public static let core = "com.mobile-messaging"
        /// Codes the Mobile API returned (`requestError.serviceException.messageId`).
        public static let backend = "com.mobile-messaging.backend"
    }

    /// The code with its number (see ``ErrorCode``).
    public let errorCode: ErrorCode
    public let description: String
    public let domain: String
    /// The HTTP status when the error came from a server response.
    public let httpStatus: Int?
    /// `true` when the change was kept and will be retried later.
    public var pending: Bool
    /// The server's `Retry-After` in seconds (429/503), honoured by the sync queue; not
    /// part of `data`.
    public var retryAfterSeconds: Double?

    /// What apps switch on, e.g. `JWT_TOKEN_EXPIRED` or the server's `USER_DATA_RESTRICTED`.
    public var code: String { errorCode.name }
    /// The integer for JSON-RPC `error.code`.
    public var numericCode: Int { errorCode.number }

    public init(_ code: ErrorCode, description: String, domain: String = Domain.core, httpStatus: Int? = nil, pending: Bool = false) {
        self.errorCode = code
        self.description = description
        self.domain = domain
        self.httpStatus = httpStatus
        self.pending = pending
    }

    /// A code by name: the core's own when `domain` is the core's, else the server's.
    public init(code: String, description: String, domain: String = Domain.core, httpStatus: Int? = nil, pending: Bool = false) {
        let errorCode = domain == Domain.core ? ErrorCode(stringLiteral: code) : .server(code)
        self.init(errorCode, description: description, domain: domain, httpStatus: httpStatus, pending: pending)
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

    /// A client-side refusal of the token (`JWT_TOKEN_*`): like a server rejection, a
    /// queued change waits for a new token rather than being retried.
    var isClientTokenRefusal: Bool {
        domain == Domain.core && (errorCode == .jwtExpired || errorCode == .jwtStructureInvalid)
    }
}

// MARK: - Factories

extension MobileMessagingError {
    static let notInitialized = MobileMessagingError(
        .notInitialized, description: "The session is not initialized: call init with a configuration first.")

    static func invalidConfiguration(_ field: String, _ reason: String) -> MobileMessagingError {
        MobileMessagingError(.invalidConfiguration, description: "Invalid configuration: \(field) \(reason).")
    }

    static func noRegistration(_ detail: String) -> MobileMessagingError {
        MobileMessagingError(.noRegistration, description: detail)
    }

    /// A client-side JWT refusal, with exactly the wrappers' code and message.
    static func jwt(_ error: UserDataJWTError) -> MobileMessagingError {
        MobileMessagingError(code: error.code.rawValue, description: error.description)
    }

    /// Over the People API's limits: `violations` is the SDKs' full message.
    static func userDataValidation(_ violations: String) -> MobileMessagingError {
        MobileMessagingError(.userDataValidationFailed, description: violations)
    }

    /// A personalize identity with no field set, refused before sending with the code
    /// and text the server would answer.
    static let userIdentityInvalid = MobileMessagingError(
        .userIdentityInvalid, description: "UserIdentity does not have any identity field set")

    static func network(_ detail: String) -> MobileMessagingError {
        MobileMessagingError(.networkError, description: "The Mobile API could not be reached: \(detail).")
    }

    static func timeout(seconds: Double) -> MobileMessagingError {
        MobileMessagingError(
            .timeout, description: "The Mobile API did not answer within \(formatSeconds(seconds)) seconds.")
    }

    static func unexpectedResponse(status: Int?, _ detail: String) -> MobileMessagingError {
        MobileMessagingError(.unexpectedResponse, description: detail, httpStatus: status)
    }

    static func backend(messageId: String, text: String, status: Int) -> MobileMessagingError {
        MobileMessagingError(.server(messageId), description: text, domain: Domain.backend, httpStatus: status)
    }

    static func authenticationPaused(_ failures: Int) -> MobileMessagingError {
        MobileMessagingError(
            .authenticationPaused,
            description: "JWT calls are paused after \(failures) consecutive authentication failures; set a new token with setUserDataJwt (or restart the session) to resume. No request was sent.")
    }

    static func stateLocked(_ path: String) -> MobileMessagingError {
        MobileMessagingError(
            .stateLocked,
            description: "The state directory \(path) is in use by another process; stop that process or use another state directory.")
    }

    static func stateCorrupted(movedTo path: String, _ reason: String) -> MobileMessagingError {
        MobileMessagingError(
            .stateCorrupted,
            description: "The state file could not be read (\(reason)); it was moved aside to \(path). Call init again to start with a clean state.")
    }

    static func stateUnavailable(_ detail: String) -> MobileMessagingError {
        MobileMessagingError(.stateUnavailable, description: "The state directory cannot be used: \(detail).")
    }

    /// Whether the same request may succeed later unchanged: no answer, a 5xx, or 429
    /// (too many requests). Other 4xx refusals are final.
    var isTransient: Bool {
        switch errorCode {
        case .networkError, .timeout: return true
        default: return isUnfollowedRedirect || (httpStatus ?? 0) >= 500 || httpStatus == 429
        }
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
