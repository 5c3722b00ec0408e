/// An error code as the bridge contract fixes it: the string apps switch on
/// (`error.data.code`) together with the integer JSON-RPC puts in `error.code`.
///
/// The core's own codes are the static constants below, each stated once with its
/// number: 1001-1099 the session, 1101-1199 the user-data JWT, 1201-1299 reaching the
/// Mobile API, 1300 anything the server said (its own `messageId`, or
/// `UNEXPECTED_RESPONSE` when it said something unreadable), 1401-1499 the local state,
/// 1501-1599 custom events.
/// The schema's `x-error-codes` lists the same table; a test keeps the two equal.
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// What apps switch on, e.g. `JWT_TOKEN_EXPIRED` or the server's `USER_DATA_RESTRICTED`.
    public let name: String
    /// The JSON-RPC `error.code`.
    public let number: Int

    private init(_ name: String, _ number: Int) {
        self.name = name
        self.number = number
    }

    /// A code the Mobile API sent (`requestError.serviceException.messageId`): always 1300.
    public static func server(_ messageId: String) -> ErrorCode { ErrorCode(messageId, 1300) }

    /// One of the core's codes by name (a server code's number when the name is not one).
    public init(stringLiteral name: String) {
        self = Self.core.first { $0.name == name } ?? .server(name)
    }

    public var description: String { name }

    /// Equal names are the same code, whoever sent it.
    public static func == (lhs: ErrorCode, rhs: ErrorCode) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    // MARK: The session

    public static let notInitialized = ErrorCode("NOT_INITIALIZED", 1001)
    public static let invalidConfiguration = ErrorCode("INVALID_CONFIGURATION", 1002)
    public static let noRegistration = ErrorCode("NO_REGISTRATION", 1003)

    // MARK: The user-data JWT and the data it guards, checked before sending

    public static let jwtStructureInvalid = ErrorCode("JWT_TOKEN_STRUCTURE_INVALID", 1101)
    public static let jwtExpired = ErrorCode("JWT_TOKEN_EXPIRED", 1102)
    public static let authenticationPaused = ErrorCode("AUTHENTICATION_PAUSED", 1103)
    /// User data over the People API's limits (both SDKs' `UserDataValidator`).
    public static let userDataValidationFailed = ErrorCode("USER_DATA_VALIDATION_FAILED", 1104)
    /// A personalize `userIdentity` with no identity field; the SDKs refuse it locally
    /// with the server's code, so it is the server's number.
    public static let userIdentityInvalid = ErrorCode("USER_IDENTITY_INVALID", 1300)
    /// An inbox token whose `sub` is not the `externalUserId` asked for (`fetchInboxMessages`).
    public static let jwtSubjectMismatch = ErrorCode("JWT_TOKEN_SUBJECT_MISMATCH", 1105)

    // MARK: Reaching the Mobile API

    public static let networkError = ErrorCode("NETWORK_ERROR", 1201)
    public static let timeout = ErrorCode("TIMEOUT", 1202)
    /// A server answer that is not the Mobile API's shape (a proxy's HTML page, an empty
    /// or truncated body, a redirect); `httpStatus` says what the server answered.
    public static let unexpectedResponse = ErrorCode("UNEXPECTED_RESPONSE", 1300)

    // MARK: The local state

    public static let stateLocked = ErrorCode("STATE_LOCKED", 1401)
    public static let stateCorrupted = ErrorCode("STATE_CORRUPTED", 1402)
    /// The state directory cannot be created, read or written (permissions, disk).
    public static let stateUnavailable = ErrorCode("STATE_UNAVAILABLE", 1403)

    // MARK: Custom events

    /// `submitEvent` at the event queue's cap (count or bytes); nothing held is dropped.
    public static let customEventsLimitReached = ErrorCode("CUSTOM_EVENTS_LIMIT_REACHED", 1501)

    /// Every code of the core's own (domain `com.mobile-messaging`).
    public static let core: [ErrorCode] = [
        .notInitialized, .invalidConfiguration, .noRegistration, .jwtStructureInvalid, .jwtExpired, .authenticationPaused,
        .userDataValidationFailed, .jwtSubjectMismatch, .networkError, .timeout, .unexpectedResponse, .stateLocked, .stateCorrupted,
        .stateUnavailable, .customEventsLimitReached,
    ]
}
