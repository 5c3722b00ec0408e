import JSON
import UserDataJWT

/// The Mobile API calls the core makes (`docs/contract/mobile-api.md`), in the server's shapes.
///
/// Which credential a call carries is decided by its signature: only the three user
/// calls take a token, and send `Bearer <token>` when one is given; everything else
/// always sends `App <applicationCode>` (`docs/contract/jwt.md`). Every failure comes back as a
/// ``MobileMessagingError``: `NETWORK_ERROR`, `TIMEOUT`, the server's own code, or
/// `UNEXPECTED_RESPONSE` for an answer that is not the Mobile API's shape. What the
/// server says goes through ``UntrustedText`` before it reaches an error.
///
/// Requests go to the route's current base URL: a `New-Base-URL` header on any answer
/// moves every later request, and a host that cannot be found sends them back to the
/// configured `backendBaseURL` (``BaseURLRoute``).
struct MobileAPIClient: Sendable {
    let route: BaseURLSource
    let applicationCode: String
    let timeoutSeconds: Double
    let transport: any HTTPTransport
    /// Larger bodies are refused even if the transport accepted them.
    var maxResponseBytes = 1 << 20

    init(configuration: Configuration, transport: any HTTPTransport, route: BaseURLSource? = nil) {
        self.route = route ?? BaseURLSource(BaseURLRoute(configured: configuration.backendBaseURL))
        applicationCode = configuration.applicationCode
        timeoutSeconds = configuration.requestTimeoutSeconds
        self.transport = transport
    }

    /// The base URL of the next request.
    var baseURL: String { route.current }

    /// `GET /mobile/1/baseurl` (App auth) at the configured base URL: where the service
    /// wants this application. `nil` when the answer names none.
    func fetchBaseURL() async throws(MobileMessagingError) -> String? {
        let answer = try await send("GET", "/mobile/1/baseurl", pushRegistrationId: nil, base: route.snapshot.configured)
        return answer.json?["baseUrl"]?.stringValue
    }

    // MARK: - Installation

    /// `POST /mobile/1/appinstance`: the answer must hold the new `pushRegId`.
    func registerInstallation(_ installation: Installation) async throws(MobileMessagingError) -> Installation {
        let answer = try await send("POST", "/mobile/1/appinstance", pushRegistrationId: nil, body: installation.apiJSON)
        let registered = try Installation(api: requireObject(answer, what: "installation"))
        guard let id = registered.pushRegistrationId, !id.isEmpty else {
            throw .unexpectedResponse(status: answer.status, "The server registered the installation but sent no pushRegId.")
        }
        return registered
    }

    /// `GET /mobile/1/appinstance/{pushRegId}`
    func fetchInstallation(_ pushRegistrationId: String) async throws(MobileMessagingError) -> Installation {
        let answer = try await send("GET", installationPath(pushRegistrationId), pushRegistrationId: pushRegistrationId)
        return try Installation(api: requireObject(answer, what: "installation"))
    }

    /// `PATCH /mobile/1/appinstance/{target}` with the changed fields. Returns the
    /// installation when the server sent it back, `nil` when it answered without one.
    func patchInstallation(_ target: String, body: JSONObject, own: String) async throws(MobileMessagingError) -> Installation? {
        let answer = try await send("PATCH", installationPath(target), pushRegistrationId: own, body: .object(body))
        guard let object = answer.json?.objectValue, object["pushRegId"]?.stringValue != nil else { return nil }
        return Installation(api: object)
    }

    /// `POST /mobile/1/appinstance/{target}/depersonalize`, for this or another installation.
    func depersonalize(_ target: String, own: String) async throws(MobileMessagingError) {
        _ = try await send("POST", installationPath(target) + "/depersonalize", pushRegistrationId: own)
    }

    // MARK: - User (JWT or App)

    /// `GET /mobile/1/appinstance/{pushRegId}/user`
    func fetchUser(_ own: String, token: String?) async throws(MobileMessagingError) -> UserData {
        let answer = try await send("GET", installationPath(own) + "/user", token: token, pushRegistrationId: own)
        return try UserData(api: requireObject(answer, what: "user"))
    }

    /// `PATCH /mobile/1/appinstance/{pushRegId}/user` with the changed fields. Returns
    /// the user when the server sent it back, `nil` when it answered without one.
    func patchUser(_ own: String, body: JSONObject, token: String?) async throws(MobileMessagingError) -> UserData? {
        let answer = try await send("PATCH", installationPath(own) + "/user", token: token, pushRegistrationId: own, body: .object(body))
        guard let object = answer.json?.objectValue, !object.isEmpty else { return nil }
        return UserData(api: object)
    }

    /// `POST /mobile/1/appinstance/{pushRegId}/personalize?forceDepersonalize=&keepAsLead=&setDeviceAsPrimary=`
    func personalize(_ own: String, context: PersonalizeContext, token: String?) async throws(MobileMessagingError) -> UserData? {
        let answer = try await send(
            "POST", installationPath(own) + "/personalize?" + context.queryString, token: token, pushRegistrationId: own, body: context.apiBody)
        guard let object = answer.json?.objectValue, !object.isEmpty else { return nil }
        return UserData(api: object)
    }

    // MARK: - Requests

    struct Answer {
        var status: Int
        /// The parsed body; `nil` when it was empty.
        var json: JSONValue?
    }

    func installationPath(_ pushRegistrationId: String) -> String {
        "/mobile/1/appinstance/" + Self.percentEncodedSegment(pushRegistrationId)
    }

    /// The headers of a request, in a fixed order. `Bearer` only when `token` is given.
    func headers(token: String?, pushRegistrationId: String?, hasBody: Bool) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            ("Authorization", token.map { "Bearer \($0)" } ?? "App \(applicationCode)"),
            ("Accept", "application/json"),
            ("User-Agent", CoreVersion.userAgent),
        ]
        if hasBody { headers.append(("Content-Type", "application/json")) }
        if let pushRegistrationId { headers.append(("pushregistrationid", pushRegistrationId)) }
        return headers
    }

    func send(
        _ method: String, _ path: String, token: String? = nil, pushRegistrationId: String?, body: JSONValue? = nil,
        base: String? = nil
    ) async throws(MobileMessagingError) -> Answer {
        let base = base ?? route.current
        let response: HTTPResponse
        do {
            response = try await transport.send(
                method: method, url: base + path,
                headers: headers(token: token, pushRegistrationId: pushRegistrationId, hasBody: body != nil),
                body: body?.serializedBytes, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
        } catch {
            // The failed call answers its own error; the next one goes to the configured URL.
            if case HTTPTransportError.hostNotFound = error { route.fallBack(from: base) }
            throw Self.transportError(error, timeoutSeconds: timeoutSeconds, token: token)
        }
        // Any answer, whatever its status, may move the application (both SDKs).
        if let moved = response.header("New-Base-URL") { route.follow(moved) }
        guard response.body.count <= maxResponseBytes else {
            throw .unexpectedResponse(
                status: response.status, "The server answered HTTP \(response.status) with a body larger than \(maxResponseBytes) bytes.")
        }
        guard (200..<300).contains(response.status) else {
            throw Self.responseError(response, token: token)
        }
        if response.body.allSatisfy(Self.isJSONWhitespace) { return Answer(status: response.status, json: nil) }
        guard let json = try? JSONParser.parse(response.body) else {
            // The Mobile API always answers JSON: a 2xx page of anything else comes from a
            // captive portal or a proxy, and the request never reached the Mobile API.
            throw .notTheMobileAPI(status: response.status, contentType: Self.contentType(response), bytes: response.body.count)
        }
        return Answer(status: response.status, json: json)
    }

    func requireObject(_ answer: Answer, what: String) throws(MobileMessagingError) -> JSONObject {
        guard let object = answer.json?.objectValue else {
            throw .unexpectedResponse(
                status: answer.status, "The server answered HTTP \(answer.status) without the \(what) object it should send.")
        }
        return object
    }

    // MARK: - Error mapping

    /// A failed exchange as `TIMEOUT`, `NETWORK_ERROR` or (a body over the limit)
    /// `UNEXPECTED_RESPONSE`.
    static func transportError(_ error: any Error, timeoutSeconds: Double, token: String?) -> MobileMessagingError {
        switch error {
        case HTTPTransportError.timeout:
            return .timeout(seconds: timeoutSeconds)
        case HTTPTransportError.network(let detail):
            return .network(UntrustedText.line(detail, token: token, limit: 200))
        case HTTPTransportError.hostNotFound(let host):
            return .network("the host \(UntrustedText.line(host, token: token, limit: 100)) was not found")
        case HTTPTransportError.responseTooLarge(let status, let limit):
            return .unexpectedResponse(status: status, "The server answered HTTP \(status) with a body larger than \(limit) bytes.")
        case is CancellationError:
            return .network("the request was cancelled")
        default:
            return .network(UntrustedText.line(String(describing: error), token: token, limit: 200))
        }
    }

    /// A non-2xx answer: a redirect (never followed); else the server's `messageId` and
    /// `text` when the body has the Mobile API's error shape and the code is well formed;
    /// else `UNEXPECTED_RESPONSE` with the status and a short printable excerpt (a
    /// proxy's HTML page, an empty body...).
    static func responseError(_ response: HTTPResponse, token: String?) -> MobileMessagingError {
        let status = response.status
        if (300..<400).contains(status) {
            return .unfollowedRedirect(status: status, to: response.header("Location").flatMap { redirectHost($0, token: token) })
        }
        if let json = try? JSONParser.parse(response.body),
            let exception = json["requestError"]?["serviceException"],
            let messageId = exception["messageId"]?.stringValue, !messageId.isEmpty
        {
            let text = exception["text"]?.stringValue.map { UntrustedText.line($0, token: token, limit: UntrustedText.textLimit) } ?? ""
            var error: MobileMessagingError
            if let code = UntrustedText.code(messageId) {
                error = .backend(messageId: code, text: text.isEmpty ? "HTTP \(status)" : text, status: status)
            } else {
                error = .unexpectedResponse(
                    status: status,
                    "The server answered HTTP \(status) with an error whose messageId is not a well-formed code" + (text.isEmpty ? "." : ": \(text)"))
            }
            error.retryAfterSeconds = retryAfter(response)
            return error
        }
        if response.body.allSatisfy(isJSONWhitespace) {
            return .unexpectedResponse(status: status, "The server answered HTTP \(status) with an empty body.")
        }
        let kind = contentType(response)
        let excerpt = UntrustedText.excerpt(response.body, token: token, limit: 100, html: kind.lowercased().contains("html"))
        return .unexpectedResponse(
            status: status,
            "The server answered HTTP \(status) with a body that is not a Mobile API error (\(kind), \(response.body.count) bytes)"
                + (excerpt.isEmpty ? "." : ": \(excerpt)"))
    }

    /// The `Content-Type` as untrusted text, for descriptions.
    static func contentType(_ response: HTTPResponse) -> String {
        response.header("Content-Type").map { UntrustedText.line($0, token: nil, limit: 60) } ?? "no content type"
    }

    /// The host (and port) a redirect points to, for the description; the path and query
    /// may hold ids, and are left out.
    static func redirectHost(_ location: String, token: String?) -> String? {
        guard let schemeEnd = location.firstRange(of: "://") else { return nil }
        var authority = location[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host = UntrustedText.line(String(authority), token: token, limit: 100)
        return host.isEmpty ? nil : host
    }

    /// `Retry-After` as delay-seconds (the HTTP-date form is not used by the Mobile API),
    /// capped at an hour so a bad header cannot park the queue for days.
    static func retryAfter(_ response: HTTPResponse) -> Double? {
        guard let text = response.header("Retry-After"), let seconds = Double(String(text.filter { $0 != " " && $0 != "\t" })),
            seconds.isFinite, seconds >= 0
        else { return nil }
        return min(seconds, 3600)
    }

    static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// A path segment with everything but RFC 3986 unreserved characters percent-encoded,
    /// so an id can never change the path or add a query.
    static func percentEncodedSegment(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(hex[Int(byte >> 4)])
                result.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return result
    }
}
