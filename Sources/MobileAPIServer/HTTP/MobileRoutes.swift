import Foundation
import HTTPTypes
import Hummingbird
import JSON

/// The Mobile API (docs/mmserver.md): installations, users, personalize, depersonalize.
struct MobileRoutes: Sendable {
    let store: ServerStore
    let callers: MobileCallers
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
        let application = try await callers.appApplication(request, context)
        let code = application.code
        let changes = try InstallationChanges(try await request.jsonObjectBody(limit: Limits.bodyBytes), pushRegId: nil)
        return JSONResponse(status: .created, try await store.installations.register(applicationCode: code, changes: changes))
    }

    func installation(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await callers.appCaller(request, context)
        return JSONResponse(installation.json)
    }

    func patchInstallation(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await callers.appCaller(request, context)
        let body = try await request.jsonObjectBody(limit: Limits.bodyBytes)
        let changes = try InstallationChanges(body, pushRegId: installation.pushRegId)
        return JSONResponse(try await store.installations.patch(installation.pushRegId, changes: changes))
    }

    func depersonalize(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let (_, installation) = try await callers.appCaller(request, context)
        try await store.installations.depersonalize(installation.pushRegId)
        return JSONResponse(.object(JSONObject()))
    }

    // MARK: User data (App or Bearer, per the application's setting)

    func user(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let access = try await callers.userDataCaller(request, context)
        return JSONResponse(try await store.users.user(pushRegId: access.installation.pushRegId, caller: access.caller))
    }

    func patchUser(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let access = try await callers.userDataCaller(request, context)
        let changes = try UserChanges(try await request.jsonObjectBody(limit: Limits.bodyBytes), scope: .user)
        return JSONResponse(
            try await store.users.patchUser(
                pushRegId: access.installation.pushRegId, changes: changes, caller: access.caller,
                authorization: access.application.userDataAuthorization))
    }

    func personalize(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let access = try await callers.userDataCaller(request, context)
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
            try await store.personalization.personalize(
                pushRegId: access.installation.pushRegId, identity: identity, attributes: attributes, options: options,
                caller: access.caller, authorization: access.application.userDataAuthorization))
    }

    // MARK: Dynamic base URL

    /// `{"baseUrl": ...}`: the application's dynamic base URL, or when it has none the
    /// URL this request reached the server at (what the service answers for an
    /// application it does not move).
    func baseURL(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let application = try await callers.appApplication(request, context)
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
