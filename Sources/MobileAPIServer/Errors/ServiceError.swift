import Hummingbird
import JSON

/// A refusal with the Mobile API's error shape:
/// `{"requestError":{"serviceException":{"messageId":CODE,"text":MESSAGE}}}`.
///
/// Every failure the server reports, Mobile API or admin API, is one of these, so a
/// client has exactly one error shape to parse. The codes are listed in
/// `docs/mmserver.md`; the static constructors below are the only place they are spelled.
public struct ServiceError: Error, Sendable, Equatable, HTTPResponseError {
    public let status: HTTPResponse.Status
    public let messageId: String
    public let text: String
    /// Extra response headers (for example `Retry-After` from an injected fault).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ messageId: String, _ text: String) {
        self.status = status
        self.messageId = messageId
        self.text = text
    }

    public var body: JSONValue {
        ["requestError": ["serviceException": ["messageId": .string(messageId), "text": .string(text)]]]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse(status: status, body).response
        for field in headers { response.headers.append(field) }
        return response
    }
}

// MARK: - Codes of the Mobile API (the ones the SDKs know)

extension ServiceError {
    static let invalidApplicationCode = ServiceError(.unauthorized, "INVALID_APPLICATION_CODE", "Invalid application code")
    static func noRegistration(_ pushRegId: String) -> ServiceError {
        ServiceError(.notFound, "NO_REGISTRATION", "Registration not found: \(pushRegId)")
    }
    static func emailInvalid(_ email: String) -> ServiceError {
        ServiceError(.badRequest, "EMAIL_INVALID", "Invalid email: \(email)")
    }
    static func phoneInvalid(_ number: String) -> ServiceError {
        ServiceError(.badRequest, "PHONE_INVALID", "Invalid phone number: \(number)")
    }
    static let userIdentityInvalid = ServiceError(
        .badRequest, "USER_IDENTITY_INVALID", "UserIdentity does not have any identity field set")
    static func requestFormatInvalid(_ reason: String) -> ServiceError {
        ServiceError(.badRequest, "REQUEST_FORMAT_INVALID", reason)
    }
    static let userMergeInterrupted = ServiceError(
        .conflict, "USER_MERGE_INTERRUPTED", "User update violates unique key constraint")
    static let userDataRestricted = ServiceError(.forbidden, "USER_DATA_RESTRICTED", "User update access is restricted")
    static let personalizationImpossible = ServiceError(
        .conflict, "PERSONALIZATION_IMPOSSIBLE", "Installation is not depersonalized. Personalization is prohibited")
    static let ambiguousPersonalizeCandidates = ServiceError(
        .conflict, "AMBIGUOUS_PERSONALIZE_CANDIDATES", "Several users satisfy supplied user identity")
}

// MARK: - Codes of this server's choosing

extension ServiceError {
    static let authorizationInvalid = ServiceError(
        .unauthorized, "AUTHORIZATION_INVALID",
        "The Authorization header must be 'App <applicationCode>' or 'Bearer <token>'")
    static let appAuthorizationRequired = ServiceError(
        .unauthorized, "AUTHORIZATION_INVALID", "This operation needs 'Authorization: App <applicationCode>'")
    static func installationAccessForbidden(_ pushRegId: String) -> ServiceError {
        ServiceError(
            .forbidden, "INSTALLATION_ACCESS_FORBIDDEN",
            "Installation \(pushRegId) does not belong to the user of the calling installation")
    }
    static let externalUserIdChangeForbidden = ServiceError(
        .forbidden, "EXTERNAL_USER_ID_CHANGE_FORBIDDEN",
        "The external user id can be changed only by personalize when user data needs a JWT")
    static let personalizeMergeForbidden = ServiceError(
        .forbidden, "PERSONALIZE_MERGE_FORBIDDEN",
        "Personalize with a JWT cannot merge into a user whose external user id is not the token's subject")
    static func requestTooLarge(limit: Int) -> ServiceError {
        ServiceError(.contentTooLarge, "REQUEST_FORMAT_INVALID", "Request body larger than \(limit) bytes")
    }
    static func requestHeadersTooLarge(limit: Int) -> ServiceError {
        ServiceError(.requestHeaderFieldsTooLarge, "REQUEST_FORMAT_INVALID", "Request header fields larger than \(limit) bytes")
    }
    static let hostNotAllowed = ServiceError(
        .misdirectedRequest, "HOST_NOT_ALLOWED",
        "The configuration page and the admin API answer only to the loopback names and the port this server listens on")
    static func notFound(_ method: String, _ path: String) -> ServiceError {
        ServiceError(.notFound, "NOT_FOUND", "No such endpoint: \(method) \(path)")
    }
    static let internalError = ServiceError(.internalServerError, "INTERNAL_ERROR", "Internal server error")
}

// MARK: - Access token refusals (server side). None of them echoes the token.

extension ServiceError {
    static let accessTokenMissing = ServiceError(
        .unauthorized, "ACCESS_TOKEN_MISSING", "User data requires 'Authorization: Bearer <JWT>' for this application")
    static func accessTokenInvalid(_ reason: String) -> ServiceError {
        ServiceError(.unauthorized, "ACCESS_TOKEN_INVALID", "Invalid access token: \(reason)")
    }
    static let accessTokenDuplicateMember = ServiceError(
        .unauthorized, "ACCESS_TOKEN_DUPLICATE_MEMBER",
        "Invalid access token: its header or payload repeats a member name")
    static let accessTokenKeyUnknown = ServiceError(
        .unauthorized, "ACCESS_TOKEN_KEY_UNKNOWN", "The token's key id is not an active key of this application")
    static let accessTokenExpired = ServiceError(.unauthorized, "ACCESS_TOKEN_EXPIRED", "The access token has expired")
    static let accessTokenNotYetValid = ServiceError(
        .unauthorized, "ACCESS_TOKEN_NOT_YET_VALID", "The access token was issued in the future")
    static let accessTokenApplicationMismatch = ServiceError(
        .unauthorized, "ACCESS_TOKEN_APPLICATION_MISMATCH",
        "The token's infobip-api-key claim does not match the application")
    static let accessTokenSubjectMismatch = ServiceError(
        .unauthorized, "ACCESS_TOKEN_SUBJECT_MISMATCH",
        "The token's sub claim does not match the external user id of the user acted on")
}

// MARK: - Admin API

extension ServiceError {
    static let adminUnauthorized = ServiceError(
        .unauthorized, "ADMIN_UNAUTHORIZED", "The admin API needs 'Authorization: Bearer <admin token>'")
    static func applicationNotFound(_ code: String) -> ServiceError {
        ServiceError(.notFound, "APPLICATION_NOT_FOUND", "No application with code \(code)")
    }
    static func applicationExists(_ code: String) -> ServiceError {
        ServiceError(.conflict, "APPLICATION_EXISTS", "An application with code \(code) already exists")
    }
    static func keyNotFound(_ keyId: String) -> ServiceError {
        ServiceError(.notFound, "KEY_NOT_FOUND", "No key \(keyId) in this application")
    }
    static let noActiveKey = ServiceError(.conflict, "NO_ACTIVE_KEY", "The application has no active key")
    static func personNotFound(_ externalUserId: String) -> ServiceError {
        ServiceError(.notFound, "PERSON_NOT_FOUND", "No person with external user id \(externalUserId)")
    }
}
