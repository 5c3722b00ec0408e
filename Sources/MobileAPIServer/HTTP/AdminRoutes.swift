import Crypto
import Foundation
import Hummingbird
import JSON

/// The admin HTTP API: application profiles, keys, tokens, people, installations, the
/// request log and fault injection. Guarded by the admin token.
struct AdminRoutes: Sendable {
    let store: ServerStore
    let requestLog: RequestLog
    let faults: FaultInjector
    let adminToken: String
    let now: @Sendable () -> Date

    func register(on router: Router<ServerRequestContext>) {
        let admin = router.group("admin").add(middleware: AdminAuthMiddleware(adminToken: adminToken))

        admin.post("applications") { request, _ in try await createApplication(request) }
        admin.get("applications") { _, _ in
            JSONResponse(.array(try await store.applications.all().map(\.json)))
        }
        admin.get("applications/:code") { _, context in
            JSONResponse(try await store.applications.existing(Self.parameter(context, "code")).json)
        }
        admin.patch("applications/:code") { request, context in try await patchApplication(request, context) }
        admin.put("applications/:code/base-url") { request, context in try await putBaseURL(request, context) }

        admin.post("applications/:code/keys") { _, context in
            let key = try await store.applications.createKey(applicationCode: Self.parameter(context, "code"))
            return JSONResponse(status: .created, ["keyId": .string(key.keyId), "secret": .string(key.secret)])
        }
        admin.get("applications/:code/keys") { _, context in
            JSONResponse(.array(try await store.applications.keys(applicationCode: Self.parameter(context, "code")).map(\.listingJSON)))
        }
        admin.delete("applications/:code/keys/:keyId") { _, context in
            let key = try await store.applications.revokeKey(
                applicationCode: Self.parameter(context, "code"), keyId: Self.parameter(context, "keyId"))
            return JSONResponse(key.listingJSON)
        }
        admin.post("applications/:code/tokens") { request, context in try await mintToken(request, context) }

        admin.get("applications/:code/installations") { _, context in
            JSONResponse(try await store.installations.all(applicationCode: Self.parameter(context, "code")))
        }
        admin.get("applications/:code/people") { _, context in
            JSONResponse(try await store.users.people(applicationCode: Self.parameter(context, "code")))
        }
        admin.get("applications/:code/people/:externalUserId") { _, context in
            JSONResponse(
                try await store.users.person(
                    applicationCode: Self.parameter(context, "code"),
                    externalUserId: Self.parameter(context, "externalUserId")))
        }
        admin.patch("applications/:code/people/:externalUserId") { request, context in
            let changes = try UserChanges(try await request.jsonObjectBody(limit: Limits.bodyBytes), scope: .user)
            return JSONResponse(
                try await store.users.patchPerson(
                    applicationCode: Self.parameter(context, "code"),
                    externalUserId: Self.parameter(context, "externalUserId"), changes: changes))
        }
        admin.delete("applications/:code/people/:externalUserId") { _, context in
            try await store.users.deletePerson(
                applicationCode: Self.parameter(context, "code"),
                externalUserId: Self.parameter(context, "externalUserId"))
            return JSONResponse(.object(JSONObject()))
        }

        AdminEventRoutes(store: store).register(on: admin)
        AdminInboxRoutes(store: store).register(on: admin)

        admin.get("requests") { request, _ in
            let since = request.uri.queryParameters.get("since").flatMap { Int($0) } ?? 0
            return JSONResponse(.array(await requestLog.entries(since: since).map(\.json)))
        }
        admin.delete("requests") { _, _ in
            await requestLog.clear()
            return JSONResponse(.object(JSONObject()))
        }

        admin.get("faults") { _, _ in JSONResponse(.array(await faults.current.map(\.json))) }
        admin.put("faults") { request, _ in
            let body = try await request.jsonBody(limit: Limits.bodyBytes)
            guard let array = body.arrayValue else {
                throw ServiceError.requestFormatInvalid("The body must be an array of fault rules, got \(body.typeName)")
            }
            var rules: [FaultRule] = []
            for (index, value) in array.enumerated() { rules.append(try FaultRule(value, index: index)) }
            await faults.replace(with: rules)
            return JSONResponse(.array(rules.map(\.json)))
        }
        admin.delete("faults") { _, _ in
            await faults.replace(with: [])
            return JSONResponse(.array([]))
        }
    }

    static func parameter(_ context: ServerRequestContext, _ name: String) -> String {
        let raw = context.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    // MARK: Applications

    static func authorization(_ reader: FieldReader) throws(ServiceError) -> UserDataAuthorization? {
        guard let value = reader.value("userDataAuthorization"), !value.isNull else { return nil }
        guard let text = value.stringValue, let setting = UserDataAuthorization(rawValue: text) else {
            throw .requestFormatInvalid("userDataAuthorization must be one of ALLOW_ALL, JWT_ONLY, DISALLOW_ALL")
        }
        return setting
    }

    static func name(_ reader: FieldReader) throws(ServiceError) -> String? {
        guard let value = reader.value("name"), !value.isNull else { return nil }
        return try Validate.nonEmptyString(value, field: "name")
    }

    func createApplication(_ request: Request) async throws -> JSONResponse {
        let reader = FieldReader(try await request.jsonObjectBody(limit: Limits.bodyBytes))
        try reader.rejectUnknown(allowed: ["code", "name", "userDataAuthorization"])
        var code: String?
        if let value = reader.value("code"), !value.isNull {
            let text = try Validate.string(value, field: "code")
            guard Identifiers.isValidApplicationCode(text) else {
                throw ServiceError.requestFormatInvalid("code must be 1 to 128 letters, digits, '-', '_' or '.'")
            }
            code = text
        }
        let application = try await store.applications.create(
            code: code, name: try Self.name(reader), authorization: try Self.authorization(reader))
        return JSONResponse(status: .created, application.json)
    }

    func patchApplication(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let reader = FieldReader(try await request.jsonObjectBody(limit: Limits.bodyBytes))
        try reader.rejectUnknown(allowed: ["name", "userDataAuthorization"], readOnly: ["code"])
        let application = try await store.applications.update(
            Self.parameter(context, "code"), name: try Self.name(reader), authorization: try Self.authorization(reader))
        return JSONResponse(application.json)
    }

    /// `{"baseUrl": URL}` steers the application's clients there (`New-Base-URL` on its
    /// Mobile API responses, and `GET /mobile/1/baseurl`); `{"baseUrl": null}` stops it.
    func putBaseURL(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let reader = FieldReader(try await request.jsonObjectBody(limit: Limits.bodyBytes))
        try reader.rejectUnknown(allowed: ["baseUrl"])
        guard let value = reader.value("baseUrl") else {
            throw ServiceError.requestFormatInvalid("baseUrl is required (null clears it)")
        }
        let baseUrl = value.isNull ? nil : try Validate.baseURL(value, field: "baseUrl")
        return JSONResponse(try await store.applications.setBaseURL(Self.parameter(context, "code"), baseUrl).json)
    }

    // MARK: Tokens

    /// Mints a token server-side, as an app's backend would, for demos and tests.
    func mintToken(_ request: Request, _ context: ServerRequestContext) async throws -> JSONResponse {
        let code = Self.parameter(context, "code")
        let reader = FieldReader(try await request.jsonObjectBody(limit: Limits.bodyBytes))
        try reader.rejectUnknown(allowed: ["externalUserId", "keyId", "lifetimeSeconds"])
        guard let subjectValue = reader.value("externalUserId") else {
            throw ServiceError.requestFormatInvalid("externalUserId is required")
        }
        let subject = try Validate.string(subjectValue, field: "externalUserId")
        var lifetime = 60
        if let value = reader.value("lifetimeSeconds"), !value.isNull {
            guard let seconds = value.numberValue?.intValue, (-86_400 * 365...86_400 * 365).contains(seconds) else {
                throw ServiceError.requestFormatInvalid("lifetimeSeconds must be an integer number of seconds")
            }
            lifetime = seconds
        }
        _ = try await store.applications.existing(code)
        let key: SecretKeyRecord
        if let value = reader.value("keyId"), !value.isNull {
            let keyId = try Validate.string(value, field: "keyId")
            guard let found = try await store.applications.activeKey(applicationCode: code, keyId: keyId) else {
                throw ServiceError.keyNotFound(keyId)
            }
            key = found
        } else {
            guard let newest = try await store.applications.newestActiveKey(applicationCode: code) else { throw ServiceError.noActiveKey }
            key = newest
        }
        let token = try UserDataToken.mint(
            keyId: key.keyId, secretHex: key.secret, applicationCode: code, subject: subject, lifetime: lifetime,
            issuedAt: now())
        return JSONResponse(["token": .string(token), "keyId": .string(key.keyId)])
    }
}

/// `Authorization: Bearer <admin token>`, compared in constant time.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let adminToken: String

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEqual(Array(header.dropFirst("Bearer ".count).utf8), Array(adminToken.utf8))
        else { throw ServiceError.adminUnauthorized }
        return try await next(request, context)
    }

    /// Compares digests so neither length nor content leaks through timing.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let lhs = SHA256.hash(data: a)
        let rhs = SHA256.hash(data: b)
        return lhs == rhs  // Digest equality in swift-crypto is constant-time.
    }
}
