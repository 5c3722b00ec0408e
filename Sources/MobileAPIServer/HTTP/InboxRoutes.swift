import Foundation
import Hummingbird
import JSON

/// The inbox of the Mobile API: the fetch by external user id, with a Bearer token or the
/// `App` code as the application's setting allows, and the seen report.
struct InboxRoutes: Sendable {
    let store: ServerStore
    let callers: MobileCallers

    func register(on router: Router<ServerRequestContext>) {
        router.get("mobile/1/user/:externalUserId/inbox/:cloud/messages") { request, context in
            try await fetch(request, context)
        }
        router.post("mobile/2/messages/seen") { request, context in try await seen(request, context) }
    }

    /// `{countTotal, countUnread, messages}`, each message in the shape of the cloud named.
    ///
    /// The setting rules the fetch as it rules user data, with the same codes: under
    /// DISALLOW_ALL nothing (`USER_DATA_RESTRICTED`); under JWT_ONLY a token
    /// (`ACCESS_TOKEN_MISSING` for `App`); a token sent is verified in full, and its `sub`
    /// must be the inbox's external user id (`ACCESS_TOKEN_SUBJECT_MISMATCH`).
    func fetch(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let externalUserId = AdminRoutes.parameter(context, "externalUserId")
        let credentials = try Credentials(request)
        let application = try await application(for: credentials)
        await context.application.resolved(application)
        if case .token(let subject) = try await callers.userDataCaller(credentials, application: application),
            subject != externalUserId
        {
            throw ServiceError.accessTokenSubjectMismatch
        }
        let cloudName = AdminRoutes.parameter(context, "cloud")
        guard let cloud = InboxCloud(rawValue: cloudName) else {
            throw ServiceError.requestFormatInvalid("The inbox path names apns or gcm, got \(cloudName)")
        }
        let query = request.uri.queryParameters
        let filter = try InboxFilter { query.get($0) }
        let page = try await store.inbox.page(applicationCode: application.code, externalUserId: externalUserId, filter: filter)
        return JSONResponse(
            [
                "countTotal": .number(JSONNumber(page.countTotal)), "countUnread": .number(JSONNumber(page.countUnread)),
                "messages": .array(page.messages.map { $0.wireJSON(for: cloud) }),
            ])
    }

    /// `App <code>` only (as the SDKs send it). Inbox marks are refused under
    /// DISALLOW_ALL, like the fetch; seen reports of pushes are accepted and ignored.
    func seen(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let application = try await callers.appApplication(request, context)
        let report = try SeenReport(try await request.jsonObjectBody(limit: Limits.bodyBytes))
        let marks = report.inboxMarks
        if let externalUserId = report.externalUserId, !marks.isEmpty {
            guard application.userDataAuthorization != .disallowAll else { throw ServiceError.userDataRestricted }
            try await store.inbox.markSeen(applicationCode: application.code, externalUserId: externalUserId, marks: marks)
        }
        return JSONResponse(.object(JSONObject()))
    }

    /// The application a fetch is for: the one `App` names, or the one the token's
    /// `infobip-api-key` claim names. That claim is read unverified only to choose whose
    /// keys verify the token; verification then checks it against that application.
    func application(for credentials: Credentials) async throws -> ApplicationRecord {
        switch credentials {
        case .app(let code):
            guard let application = try await store.applications.application(code) else {
                throw ServiceError.invalidApplicationCode
            }
            return application
        case .bearer(let token):
            guard let code = AccessTokenVerifier.claimedApplicationCode(token) else {
                throw ServiceError.accessTokenInvalid(
                    "not a JWT with an infobip-api-key claim (three base64url parts, JSON header and claims)")
            }
            guard let application = try await store.applications.application(code) else {
                throw ServiceError.accessTokenApplicationMismatch
            }
            return application
        }
    }
}
