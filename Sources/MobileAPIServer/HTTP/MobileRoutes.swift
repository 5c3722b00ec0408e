import Foundation
import HTTPTypes
import Hummingbird
import JSON

/// The Mobile API of `mobile-api.md`: installations, users, personalize, depersonalize.
struct MobileRoutes: Sendable {
    let store: ServerStore
    let verifier: AccessTokenVerifier
    let address: ListeningAddress

    func register(on router: Router<ServerRequestContext>) {
        router.get("mobile/1/baseurl") { request, context in try await baseURL(request, context) }
        let instances = router.group("mobile/1/appinstance")
        instances.post { request, context in try await register(request, context) }
        instances.get(":pushRegId") { request, context in try await installation(request, context) }
        instances.patch(":pushRegId") { request, context in try await patchInstallation(request, context) }
        instances.get(":pushRegId/user") { request, context in try await user(request, context) }
        instances.patch(":pushRegId/user") { request, context in try await patchUser(request, context) }
        instances.post(":pushRegId/personalize") { request, context in try await personalize(request, context) }
        instances.post(":pushRegId/depersonalize") { request, context in try await depersonalize(request, context) }
    }

    // MARK: Installations (App auth only)

    func register(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let application = try await appApplication(request, context)
        let code = application.code
        let changes = try InstallationChanges(try await request.jsonObjectBody(limit: Limits.bodyBytes), pushRegId: nil)
        return JSONResponse(status: .created, try await store.register(applicationCode: code, changes: changes))
    }

    func installation(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await appCaller(request, context)
        return JSONResponse(installation.json)
    }

    func patchInstallation(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await appCaller(request, context)
        let body = try await request.jsonObjectBody(limit: Limits.bodyBytes)
        let changes = try InstallationChanges(body, pushRegId: installation.pushRegId)
        return JSONResponse(try await store.patchInstallation(installation.pushRegId, changes: changes))
    }

    func depersonalize(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await appCaller(request, context)
        try await store.depersonalize(installation.pushRegId)
        return JSONResponse(.object(JSONObject()))
    }

    // MARK: User data (App or Bearer, per the application's setting)

    func user(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let access = try await userDataCaller(request, context)
        return JSONResponse(try await store.user(pushRegId: access.installation.pushRegId, caller: access.caller))
    }

    func patchUser(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let access = try await userDataCaller(request, context)
        let changes = try UserChanges(try await request.jsonObjectBody(limit: Limits.bodyBytes), scope: .user)
        return JSONResponse(
            try await store.patchUser(
                pushRegId: access.installation.pushRegId, changes: changes, caller: access.caller,
                authorization: access.application.userDataAuthorization))
    }

    func personalize(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let access = try await userDataCaller(request, context)
        let query = request.uri.queryParameters
        let options = PersonalizeOptions(
            forceDepersonalize: try Self.flag(query.get("forceDepersonalize"), name: "forceDepersonalize"),
            keepAsLead: try Self.flag(query.get("keepAsLead"), name: "keepAsLead"),
            setDeviceAsPrimary: try Self.flag(query.get("setDeviceAsPrimary"), name: "setDeviceAsPrimary"))
        let body = try await request.jsonObjectBody(limit: Limits.bodyBytes)
        try FieldReader(body).rejectUnknown(allowed: ["userIdentity", "userAttributes"])
        let identity = try UserIdentity(body["userIdentity"])
        var attributes = UserChanges()
        if let value = body["userAttributes"], !value.isNull {
            guard let object = value.objectValue else {
                throw ServiceError.requestFormatInvalid("userAttributes must be an object, got \(value.typeName)")
            }
            attributes = try UserChanges(object, scope: .attributes, prefix: "userAttributes.")
        }
        return JSONResponse(
            try await store.personalize(
                pushRegId: access.installation.pushRegId, identity: identity, attributes: attributes, options: options,
                caller: access.caller, authorization: access.application.userDataAuthorization))
    }

    // MARK: Dynamic base URL

    /// `{"baseUrl": ...}`: the application's dynamic base URL, or when it has none the
    /// URL this request reached the server at (what the service answers for an
    /// application it does not move).
    func baseURL(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let application = try await appApplication(request, context)
        if let baseUrl = application.baseUrl { return JSONResponse(["baseUrl": .string(baseUrl)]) }
        let authority: String
        if let given = request.head.authority {
            authority = given
        } else {
            let port = await address.port.map { ":\($0)" } ?? ""
            authority = address.host + port
        }
        return JSONResponse(["baseUrl": .string("http://\(authority)")])
    }

    // MARK: Who is calling

    /// `App <code>` naming an application: registration and the base URL.
    func appApplication(_ request: Request, _ context: ServerRequestContext) async throws -> ApplicationRecord {
        guard case .app(let code) = try Credentials(request) else { throw ServiceError.appAuthorizationRequired }
        guard let application = try await store.application(code) else { throw ServiceError.invalidApplicationCode }
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

    /// Installation endpoints: `App <code>` of the application owning the installation.
    func appCaller(
        _ request: Request, _ context: ServerRequestContext
    ) async throws -> (ApplicationRecord, InstallationRecord) {
        let credentials = try Credentials(request)
        guard case .app = credentials else { throw ServiceError.appAuthorizationRequired }
        let resolved = try await store.resolve(
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
        let (application, installation) = try await store.resolve(
            pushRegId: Self.pushRegId(context), credentials: credentials, caller: Self.callerHeader(request))
        await context.application.resolved(application)
        switch (application.userDataAuthorization, credentials) {
        case (.disallowAll, _):
            throw ServiceError.userDataRestricted
        case (.jwtOnly, .app):
            throw ServiceError.accessTokenMissing
        case (.allowAll, .app):
            return UserDataAccess(application: application, installation: installation, caller: .app)
        case (_, .bearer(let token)):
            let store = self.store
            let code = application.code
            let subject = try await verifier.verify(token, application: application) { keyId in
                try await store.activeKey(applicationCode: code, keyId: keyId)
            }
            return UserDataAccess(application: application, installation: installation, caller: .token(subject: subject))
        }
    }

    /// `true`/`false`, or absent/empty for `false`.
    static func flag(_ value: String?, name: String) throws(ServiceError) -> Bool {
        switch value?.lowercased() {
        case nil, "", "false": false
        case "true": true
        default: throw .requestFormatInvalid("\(name) must be true or false")
        }
    }
}

extension HTTPField.Name {
    /// The calling installation's id, sent by the SDKs on every request once they have one.
    static let pushRegistrationId = HTTPField.Name("pushregistrationid")!  // a valid token: cannot fail
}
