import JSON

/// What the core reads from the wrappers' Configuration object passed to `init`.
///
/// Wrappers send many keys meant for the native SDKs (`ios`, `android`,
/// `notificationCategories`, `cordovaPluginVersion`, `inAppChatEnabled`, ...); those are
/// accepted and ignored so that a wrapper can forward its configuration as is. The keys
/// read here are type-checked, and a wrong one fails `init` with
/// `INVALID_CONFIGURATION` naming it. A `null` value counts as left out.
public struct Configuration: Sendable, Equatable {
    public static let defaultBackendBaseURL = "https://mobile.infobip.com"
    public static let defaultRequestTimeoutSeconds = 20.0
    public static let defaultUserDataJwtProviderLeewaySeconds = 30.0
    public static let defaultUserDataJwtProviderTimeoutSeconds = 10.0

    /// Required, non-empty. Sent as `Authorization: App <applicationCode>`.
    public var applicationCode: String
    /// A token to start with, as if `setUserDataJwt` had been called; blank means none.
    public var userDataJwt: String?
    /// The Mobile API's base URL, without a trailing slash: https, or http to a loopback
    /// host (see ``BackendBaseURL``).
    public var backendBaseURL: String
    /// `privacySettings.userDataPersistingDisabled`: keep the user in memory only.
    public var userDataPersistingDisabled: Bool
    /// `loggingEnabled` (Cordova's name) or `logging` (React Native's and Flutter's):
    /// either one set to `true` turns it on.
    public var loggingEnabled: Bool

    // Extensions of ours, all optional.

    /// Bound of each HTTP request, and of the wait for the first registration.
    public var requestTimeoutSeconds: Double
    /// Ask the wrapper for a token (`requestUserDataJwt`) instead of failing at once.
    public var userDataJwtProvider: Bool
    /// How long before `exp` the provider is asked for a fresh token.
    public var userDataJwtProviderLeewaySeconds: Double
    /// The longest wait for the wrapper's answer to `requestUserDataJwt`.
    public var userDataJwtProviderTimeoutSeconds: Double
    /// The first delay of the sync queue's backoff (doubled per failure, full jitter);
    /// `nil` keeps the session's policy (5 s). Short values are for tests.
    public var retryBaseDelaySeconds: Double?
    /// The longest backoff delay; `nil` keeps the session's policy (300 s).
    public var retryMaxDelaySeconds: Double?

    public init(applicationCode: String, userDataJwt: String? = nil, backendBaseURL: String = defaultBackendBaseURL,
        userDataPersistingDisabled: Bool = false, loggingEnabled: Bool = false,
        requestTimeoutSeconds: Double = defaultRequestTimeoutSeconds, userDataJwtProvider: Bool = false,
        userDataJwtProviderLeewaySeconds: Double = defaultUserDataJwtProviderLeewaySeconds)
    {
        self.applicationCode = applicationCode
        self.userDataJwt = userDataJwt
        self.backendBaseURL = backendBaseURL
        self.userDataPersistingDisabled = userDataPersistingDisabled
        self.loggingEnabled = loggingEnabled
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.userDataJwtProvider = userDataJwtProvider
        self.userDataJwtProviderLeewaySeconds = userDataJwtProviderLeewaySeconds
        self.userDataJwtProviderTimeoutSeconds = Self.defaultUserDataJwtProviderTimeoutSeconds
    }

    /// Reads the wrappers' Configuration object.
    ///
    /// - Throws: `INVALID_CONFIGURATION` naming the first offending field.
    public init(json value: JSONValue) throws(MobileMessagingError) {
        guard case .object(let object) = value else {
            throw .invalidConfiguration("configuration", "must be an object, got \(value.typeName)")
        }
        let reader = ConfigurationReader(object: object, prefix: "")

        guard let code = try reader.string("applicationCode"), !code.isEmpty else {
            throw .invalidConfiguration("applicationCode", "is required and must be a non-empty string")
        }
        self.init(applicationCode: code)

        userDataJwt = try reader.string("userDataJwt")
        if let url = try reader.string("backendBaseURL") {
            backendBaseURL = try BackendBaseURL.checked(url)
        }
        if let privacy = try reader.object("privacySettings") {
            let privacyReader = ConfigurationReader(object: privacy, prefix: "privacySettings.")
            userDataPersistingDisabled = try privacyReader.bool("userDataPersistingDisabled") ?? false
        }
        // Both names are type-checked, so a wrong one is reported whichever is used.
        let cordovaLogging = try reader.bool("loggingEnabled") ?? false
        let otherLogging = try reader.bool("logging") ?? false
        loggingEnabled = cordovaLogging || otherLogging
        requestTimeoutSeconds = try reader.number("requestTimeoutSeconds", in: 0.001...600) ?? Self.defaultRequestTimeoutSeconds
        userDataJwtProvider = try reader.bool("userDataJwtProvider") ?? false
        userDataJwtProviderLeewaySeconds =
            try reader.number("userDataJwtProviderLeewaySeconds", in: 0...3600) ?? Self.defaultUserDataJwtProviderLeewaySeconds
        userDataJwtProviderTimeoutSeconds =
            try reader.number("userDataJwtProviderTimeoutSeconds", in: 0.001...60) ?? Self.defaultUserDataJwtProviderTimeoutSeconds
        retryBaseDelaySeconds = try reader.number("retryBaseDelaySeconds", in: 0.001...3600)
        retryMaxDelaySeconds = try reader.number("retryMaxDelaySeconds", in: 0.001...86_400)
    }

    /// The backoff of the sync queue: `fallback` with the configured delays, if any.
    func retryPolicy(fallback: RetryPolicy) -> RetryPolicy {
        var policy = fallback
        if let retryBaseDelaySeconds { policy.initialDelay = .milliseconds(Int64(retryBaseDelaySeconds * 1000)) }
        if let retryMaxDelaySeconds { policy.maximumDelay = .milliseconds(Int64(retryMaxDelaySeconds * 1000)) }
        if policy.maximumDelay < policy.initialDelay { policy.maximumDelay = policy.initialDelay }
        return policy
    }
}

/// Type-checked reads of optional configuration keys.
private struct ConfigurationReader {
    let object: JSONObject
    let prefix: String

    func string(_ key: String) throws(MobileMessagingError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw .invalidConfiguration(prefix + key, "must be a string, got \(other.typeName)")
        }
    }

    func bool(_ key: String) throws(MobileMessagingError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw .invalidConfiguration(prefix + key, "must be a boolean, got \(other.typeName)")
        }
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(MobileMessagingError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let number)?:
            let value = number.doubleValue
            guard range.contains(value) else {
                throw .invalidConfiguration(
                    prefix + key, "must be a number from \(formatSeconds(range.lowerBound)) to \(formatSeconds(range.upperBound))")
            }
            return value
        case let other?: throw .invalidConfiguration(prefix + key, "must be a number, got \(other.typeName)")
        }
    }

    func object(_ key: String) throws(MobileMessagingError) -> JSONObject? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let nested)?: return nested
        case let other?: throw .invalidConfiguration(prefix + key, "must be an object, got \(other.typeName)")
        }
    }
}
