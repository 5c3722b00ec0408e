import Foundation
import Hummingbird

/// Who is calling a Mobile API route, and whether the application's setting lets them:
/// the checks every route group shares, so that the same failure gets the same code.
struct MobileCallers: Sendable {
    let store: ServerStore
    let verifier: AccessTokenVerifier

    /// `App <code>` naming an application: registration, the base URL, seen marks.
    func appApplication(_ request: Request, _ context: ServerRequestContext) async throws -> ApplicationRecord {
        guard case .app(let code) = try Credentials(request) else { throw ServiceError.appAuthorizationRequired }
        guard let application = try await store.applications.application(code) else { throw ServiceError.invalidApplicationCode }
        await context.application.resolved(application)
        return application
    }

    static func pushRegId(_ context: ServerRequestContext) -> String {
        let raw = context.parameters.get("pushRegId") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    static func callerHeader(_ request: Request) -> String? {
        request.headers[.pushRegistrationId]
    }

    /// Installation endpoints and custom events: `App <code>` of the application owning
    /// the installation.
    func appCaller(
        _ request: Request, _ context: ServerRequestContext
    ) async throws -> (ApplicationRecord, InstallationRecord) {
        let credentials = try Credentials(request)
        guard case .app = credentials else { throw ServiceError.appAuthorizationRequired }
        let resolved = try await store.installations.resolve(
            pushRegId: Self.pushRegId(context), credentials: credentials, caller: Self.callerHeader(request))
        await context.application.resolved(resolved.0)
        return resolved
    }

    struct UserDataAccess {
        var application: ApplicationRecord
        var installation: InstallationRecord
        var caller: UserDataCaller
    }

    /// User-data endpoints: the application's setting decides, then a Bearer token is
    /// verified (all but its subject, which the operation compares to the user it acts on).
    func userDataCaller(_ request: Request, _ context: ServerRequestContext) async throws -> UserDataAccess {
        let credentials = try Credentials(request)
        let (application, installation) = try await store.installations.resolve(
            pushRegId: Self.pushRegId(context), credentials: credentials, caller: Self.callerHeader(request))
        await context.application.resolved(application)
        let caller = try await userDataCaller(credentials, application: application)
        return UserDataAccess(application: application, installation: installation, caller: caller)
    }

    /// The setting's verdict on these credentials for this application, the token verified
    /// but for its subject. The setting is looked at first: under DISALLOW_ALL even a bad
    /// token gets `USER_DATA_RESTRICTED`.
    func userDataCaller(_ credentials: Credentials, application: ApplicationRecord) async throws -> UserDataCaller {
        switch (application.userDataAuthorization, credentials) {
        case (.disallowAll, _):
            throw ServiceError.userDataRestricted
        case (.jwtOnly, .app):
            throw ServiceError.accessTokenMissing
        case (.allowAll, .app):
            return .app
        case (_, .bearer(let token)):
            let store = self.store
            let code = application.code
            let subject = try await verifier.verify(token, application: application) { keyId in
                try await store.applications.activeKey(applicationCode: code, keyId: keyId)
            }
            return .token(subject: subject)
        }
    }
}
