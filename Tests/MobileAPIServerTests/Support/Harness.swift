import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import TestSupport

@testable import MobileAPIServer

/// One in-process server (in-memory database unless told otherwise) and a way to talk to it.
struct Harness: Sendable {
    static let adminToken = "test-admin-token"
    let server: MobileAPIServer
    /// The server's now, which tests move: tokens are judged against it.
    let clock: TestClock

    init(database: DatabaseLocation = .inMemory, clock: TestClock = TestClock(startingAt: Date())) throws {
        self.clock = clock
        self.server = try MobileAPIServer(
            configuration: .init(database: database, adminToken: Self.adminToken, now: { clock.now }))
    }

    /// Runs `body` against the router (`.router`, no sockets) or a live port (`.live`).
    func run<T: Sendable>(_ setup: TestingSetup = .router, _ body: @Sendable (Client) async throws -> T) async throws -> T {
        try await server.makeApplication().test(setup) { client in
            try await body(Client(inner: client, clock: clock))
        }
    }
}

struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: JSONValue
    var text: String

    var messageId: String? { body["requestError"]?["serviceException"]?["messageId"]?.stringValue }
    var errorText: String? { body["requestError"]?["serviceException"]?["text"]?.stringValue }
}

struct Client: Sendable {
    let inner: any TestClientProtocol
    let clock: TestClock

    func send(
        _ method: HTTPRequest.Method, _ uri: String, auth: String? = nil, json: JSONValue? = nil,
        raw: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let auth { headers[.authorization] = auth }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: json.serializedBytes)
        } else if let raw {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: raw)
        }
        let response = try await inner.executeRequest(uri: uri, method: method, headers: headers, body: body)
        let text = String(buffer: response.body)
        let parsed = (try? JSONParser.parse(Array(text.utf8))) ?? .null
        return Reply(status: response.status.code, headers: response.headers, body: parsed, text: text)
    }

    /// A request on the live port (`.live` only) with `Host: <authority>` as given, which
    /// the test frameworks' own clients fix to `localhost`. `nil` sends no Host at all.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, authority: String?, auth: String? = nil
    ) async throws -> Reply {
        guard let port = inner.port else { throw HarnessError("a chosen Host needs a live server (.live)") }
        var headers = HTTPFields()
        if let auth { headers[.authorization] = auth }
        let request = TestClient.Request(uri, method: method, authority: authority, headers: headers)
        let response = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            try await client.execute(request)
        }
        let text = response.body.map { String(buffer: $0) } ?? ""
        let parsed = (try? JSONParser.parse(Array(text.utf8))) ?? .null
        return Reply(status: response.status.code, headers: response.headers, body: parsed, text: text)
    }

    // MARK: Admin

    func admin(_ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil) async throws -> Reply {
        try await send(method, uri, auth: "Bearer \(Harness.adminToken)", json: json)
    }

    struct Key: Sendable {
        var keyId: String
        var secret: String
        var bytes: [UInt8] { UserDataToken.decodeHex(secret) ?? [] }
    }

    @discardableResult
    func createApplication(
        _ code: String = "app-\(UUID().uuidString.prefix(8))", authorization: UserDataAuthorization = .allowAll
    ) async throws -> String {
        let reply = try await admin(
            .post, "/admin/applications", json: ["code": .string(code), "userDataAuthorization": .string(authorization.rawValue)])
        guard reply.status == 201 else { throw HarnessError("create application: \(reply.status) \(reply.text)") }
        return code
    }

    func setAuthorization(_ code: String, _ authorization: UserDataAuthorization) async throws {
        let reply = try await admin(.patch, "/admin/applications/\(code)", json: ["userDataAuthorization": .string(authorization.rawValue)])
        guard reply.status == 200 else { throw HarnessError("set authorization: \(reply.status) \(reply.text)") }
    }

    func createKey(_ code: String) async throws -> Key {
        let reply = try await admin(.post, "/admin/applications/\(code)/keys")
        guard reply.status == 201, let keyId = reply.body["keyId"]?.stringValue, let secret = reply.body["secret"]?.stringValue
        else { throw HarnessError("create key: \(reply.status) \(reply.text)") }
        return Key(keyId: keyId, secret: secret)
    }

    // MARK: Mobile API

    func register(_ code: String, _ json: JSONValue = ["os": "Linux", "sdkVersion": "1.0.0"]) async throws -> String {
        let reply = try await send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: json)
        guard reply.status == 201, let pushRegId = reply.body["pushRegId"]?.stringValue else {
            throw HarnessError("register: \(reply.status) \(reply.text)")
        }
        return pushRegId
    }

    func personalize(
        _ pushRegId: String, auth: String, identity: JSONValue, attributes: JSONValue? = nil, query: String = ""
    ) async throws -> Reply {
        var body: JSONObject = ["userIdentity": identity]
        if let attributes { body["userAttributes"] = attributes }
        return try await send(
            .post, "/mobile/1/appinstance/\(pushRegId)/personalize\(query)", auth: auth, json: .object(body))
    }

    /// A token as an app's backend mints it, on the test clock.
    func token(_ key: Key, code: String, sub: String, lifetime: Int = 60, issuedAgo: TimeInterval = 0) -> String {
        (try? UserDataToken.mint(
            keyId: key.keyId, secretHex: key.secret, applicationCode: code, subject: sub, lifetime: lifetime,
            issuedAt: clock.now.addingTimeInterval(-issuedAgo))) ?? ""
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
