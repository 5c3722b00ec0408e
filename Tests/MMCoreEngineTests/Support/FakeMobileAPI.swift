import JSON

@testable import MMCoreEngine

/// One request as the transport received it.
struct RecordedRequest: Sendable {
    let method: String
    let url: String
    /// The scheme and host the request went to, e.g. `https://fake.test`.
    let base: String
    /// The URL without the base and the query, e.g. `/mobile/1/appinstance/reg-1/user`.
    let path: String
    let query: String?
    let headers: [(name: String, value: String)]
    let body: JSONValue?
    let timeout: Duration

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var authorization: String? { header("Authorization") }
    var usesBearer: Bool { authorization?.hasPrefix("Bearer ") ?? false }
    var summary: String { "\(method) \(path)" }
}

/// An in-memory Mobile API behind the ``HTTPTransport`` seam: enough of the real one
/// (registration, installations, users, personalize, depersonalize, App/Bearer checks)
/// for session tests, with every request recorded and a hook to inject faults.
final class FakeMobileAPI: HTTPTransport {
    static let baseURL = "https://fake.test"

    struct Store {
        var requests: [RecordedRequest] = []
        var installations: [String: JSONObject] = [:]
        /// The person each installation belongs to.
        var users: [String: JSONObject] = [:]
        var nextID = 1
        var applicationCode = "app-1"
        /// `JWT_ONLY`: user endpoints refuse `App`.
        var requireBearer = false
        /// Whether PATCH user answers with the user (else an empty 200).
        var patchUserReturnsBody = false
    }

    let store = Locked(Store())
    /// Answers instead of the fake when it returns a response (or throws); `nil` falls through.
    let hook = Locked<(@Sendable (RecordedRequest) async throws -> HTTPResponse?)?>(nil)

    var requests: [RecordedRequest] { store.current.requests }
    var requestCount: Int { store.current.requests.count }

    func requests(since count: Int) -> [RecordedRequest] { Array(requests.dropFirst(count)) }

    func setHook(_ body: (@Sendable (RecordedRequest) async throws -> HTTPResponse?)?) {
        hook.withLock { $0 = body }
    }

    func send(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?, timeout: Duration)
        async throws -> HTTPResponse
    {
        // Any host serves (the dynamic base URL moves requests to others); `RecordedRequest.base` says which.
        let base = Self.base(of: url)
        var rest = Substring(url.dropFirst(base.count))
        var query: String?
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        let request = RecordedRequest(
            method: method, url: url, base: base, path: String(rest), query: query, headers: headers,
            body: body.flatMap { try? JSONParser.parse($0) }, timeout: timeout)
        store.withLock { $0.requests.append(request) }
        if let hook = hook.current, let response = try await hook(request) { return response }
        return store.withLock { handle(request, &$0) }
    }

    /// A client of this fake, as the session would build it.
    var client: MobileAPIClient {
        MobileAPIClient(
            configuration: Configuration(applicationCode: "app-1", backendBaseURL: Self.baseURL, requestTimeoutSeconds: 3),
            transport: self)
    }

    /// Fails every request whose path ends with `suffix` with `error` (a network fault on
    /// one endpoint); other requests are served.
    func failRequests(endingWith suffix: String, with error: HTTPTransportError) {
        setHook { request in
            if request.path.hasSuffix(suffix) { throw error }
            return nil
        }
    }

    /// `scheme://host[:port]` of `url`.
    static func base(of url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return "" }
        let rest = url[scheme.upperBound...]
        return String(url[..<(rest.firstIndex(of: "/") ?? url.endIndex)])
    }

    // MARK: - Responses

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.serializedBytes)
    }

    static func error(_ status: Int, _ messageId: String, _ text: String) -> HTTPResponse {
        json(status, ["requestError": ["serviceException": ["messageId": .string(messageId), "text": .string(text)]]])
    }

    // MARK: - The API

    private func handle(_ request: RecordedRequest, _ store: inout Store) -> HTTPResponse {
        let segments = request.path.split(separator: "/").map(String.init)
        guard segments.count >= 3, segments[0] == "mobile", segments[1] == "1", segments[2] == "appinstance" else {
            return Self.error(404, "NOT_FOUND", "No such endpoint")
        }
        let authorization = request.authorization ?? ""
        if authorization.hasPrefix("App ") && authorization != "App \(store.applicationCode)" {
            return Self.error(401, "INVALID_APPLICATION_CODE", "Invalid application code")
        }
        let body = request.body?.objectValue ?? JSONObject()

        if segments.count == 3 && request.method == "POST" {
            let id = "reg-\(store.nextID)"
            store.nextID += 1
            var installation = body
            installation["pushRegId"] = .string(id)
            store.installations[id] = installation
            return Self.json(200, .object(installation))
        }
        let id = segments[3]
        guard var installation = store.installations[id] else {
            return Self.error(404, "NO_REGISTRATION", "Installation not found")
        }
        let action = segments.count > 4 ? segments[4] : nil
        let userEndpoint = action == "user" || action == "personalize"
        if userEndpoint && store.requireBearer && !request.usesBearer {
            return Self.error(401, "ACCESS_TOKEN_MISSING", "Access token is missing")
        }

        switch (request.method, action) {
        case ("GET", nil):
            return Self.json(200, .object(installation))
        case ("PATCH", nil):
            for member in body { installation[member.key] = member.value.isNull ? nil : member.value }
            store.installations[id] = installation
            return Self.json(200, .object(installation))
        case ("GET", "user"?):
            return Self.json(200, .object(userWithInstances(id, store)))
        case ("PATCH", "user"?):
            var user = store.users[id] ?? JSONObject()
            for member in body {
                if member.key == "customAttributes", case .object(let attributes) = member.value {
                    var merged = user["customAttributes"]?.objectValue ?? JSONObject()
                    for attribute in attributes { merged[attribute.key] = attribute.value.isNull ? nil : attribute.value }
                    user["customAttributes"] = .object(merged)
                } else {
                    user[member.key] = member.value.isNull ? nil : member.value
                }
            }
            if user["type"] == nil { user["type"] = "LEAD" }
            store.users[id] = user
            return store.patchUserReturnsBody ? Self.json(200, .object(userWithInstances(id, store))) : HTTPResponse(status: 200)
        case ("POST", "personalize"?):
            var user = body["userIdentity"]?.objectValue ?? JSONObject()
            for member in body["userAttributes"]?.objectValue ?? JSONObject() where !member.value.isNull {
                user[member.key] = member.value
            }
            user["type"] = "CUSTOMER"
            store.users[id] = user
            return Self.json(200, .object(userWithInstances(id, store)))
        case ("POST", "depersonalize"?):
            store.users[id] = nil
            return HTTPResponse(status: 200)
        default:
            return Self.error(405, "REQUEST_FORMAT_INVALID", "Unsupported")
        }
    }

    /// The person of installation `id`, with `instances`: every installation whose
    /// person has the same externalUserId (or just this one).
    private func userWithInstances(_ id: String, _ store: Store) -> JSONObject {
        var user = store.users[id] ?? JSONObject()
        let externalUserId = user["externalUserId"]?.stringValue
        let ids = store.installations.keys.sorted().filter { other in
            other == id || (externalUserId != nil && store.users[other]?["externalUserId"]?.stringValue == externalUserId)
        }
        user["instances"] = .array(ids.compactMap { store.installations[$0].map(JSONValue.object) })
        return user
    }
}
