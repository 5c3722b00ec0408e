import Foundation
import JSON
import Testing

@testable import MobileAPIServer

/// The inbox: messages put through the admin API, fetched in each SDK's shape with the
/// filters, seen marks, the authorization rules per setting, and faults.
@Suite("Inbox")
struct InboxTests {
    static func put(_ client: Client, _ code: String, _ user: String, _ body: JSONValue) async throws -> JSONValue {
        let reply = try await client.admin(.post, "/admin/applications/\(code)/inbox/\(user)", json: body)
        #expect(reply.status == 201, "\(reply.text)")
        return reply.body
    }

    static func fetch(
        _ client: Client, _ user: String, auth: String?, cloud: String = "apns", query: String = ""
    ) async throws -> Reply {
        try await client.send(.get, "/mobile/1/user/\(user)/inbox/\(cloud)/messages\(query)", auth: auth)
    }

    static func seen(_ client: Client, _ code: String, _ body: JSONValue, auth: String? = nil) async throws -> Reply {
        try await client.send(.post, "/mobile/2/messages/seen", auth: auth ?? "App \(code)", json: body)
    }

    static func mark(_ user: String, _ ids: [String], delta: Int = 0) -> JSONValue {
        [
            "externalUserId": .string(user),
            "messages": .array(ids.map { ["messageId": .string($0), "timestampDelta": .number(JSONNumber(delta)), "inbox": true] }),
        ]
    }

    // MARK: Admin

    @Test func adminPutsAndListsMessages() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let message = try await Self.put(
                client, code, "alice",
                ["messageId": "m1", "title": "Hi", "body": "Hello", "topic": "news", "customPayload": ["k": "v"],
                 "sentTimestamp": 1_700_000_000_000, "sound": "default"])
            #expect(
                message == [
                    "messageId": "m1", "externalUserId": "alice", "title": "Hi", "body": "Hello", "topic": "news",
                    "sound": "default", "vibrate": true, "silent": false, "customPayload": ["k": "v"],
                    "sentTimestamp": 1_700_000_000_000, "seen": false,
                ])
            let plain = try await Self.put(client, code, "alice", ["body": "Plain"])
            #expect(plain["topic"] == "default")
            #expect(plain["messageId"]?.stringValue?.isEmpty == false)
            #expect(plain["sentTimestamp"]?.numberValue?.intValue == Int(client.clock.now.timeIntervalSince1970 * 1000))
            let list = try await client.admin(.get, "/admin/applications/\(code)/inbox/alice")
            #expect(list.body["countTotal"] == 2)
            #expect(list.body["countUnread"] == 2)
            #expect(list.body["messages"]?.arrayValue?.map { $0["body"] } == ["Plain", "Hello"])
            let again = try await client.admin(.post, "/admin/applications/\(code)/inbox/bob", json: ["messageId": "m1", "body": "x"])
            #expect(again.status == 409)
            #expect(again.messageId == "INBOX_MESSAGE_EXISTS")
            #expect(try await client.admin(.get, "/admin/applications/\(code)/inbox/bob").body["countTotal"] == 0)
            #expect(try await client.admin(.get, "/admin/applications/none/inbox/bob").messageId == "APPLICATION_NOT_FOUND")
        }
    }

    @Test(arguments: [
        [:] as JSONValue, ["title": "no body"], ["body": 1], ["body": "x", "customPayload": [1]],
        ["body": "x", "sentTimestamp": -1], ["body": "x", "sentTimestamp": "now"], ["body": "x", "topic": ""],
        ["body": "x", "vibrate": "yes"], ["body": "x", "colour": "red"],
    ])
    func adminRefusesMalformedMessages(_ body: JSONValue) async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let reply = try await client.admin(.post, "/admin/applications/\(code)/inbox/alice", json: body)
            #expect(reply.status == 400)
            #expect(reply.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    // MARK: Shapes

    @Test func apnsShapeIsWhatTheIOSSDKParses() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await Self.put(
                client, code, "alice",
                ["messageId": "m1", "title": "Hi", "body": "Hello", "topic": "news", "customPayload": ["k": "v"],
                 "sentTimestamp": 1_700_000_000_000, "sound": "default"])
            let reply = try await Self.fetch(client, "alice", auth: "App \(code)")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(
                reply.body == [
                    "countTotal": 1, "countUnread": 1,
                    "messages": [[
                        "messageId": "m1", "aps": ["alert": ["title": "Hi", "body": "Hello"], "sound": "default"],
                        "internalData": ["sendDateTime": 1_700_000_000_000, "inbox": ["topic": "news", "seen": false]],
                        "customPayload": ["k": "v"], "silent": false,
                    ]],
                ])
        }
    }

    @Test func gcmShapeIsWhatTheAndroidSDKParses() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await Self.put(
                client, code, "alice",
                ["messageId": "m1", "title": "Hi", "body": "Hello", "topic": "news", "customPayload": ["k": "v"],
                 "sentTimestamp": 1_700_000_000_000, "vibrate": false])
            let reply = try await Self.fetch(client, "alice", auth: "App \(code)", cloud: "gcm")
            let message = reply.body["messages"]?.arrayValue?.first
            #expect(message?["gcm.notification.messageId"] == "m1")
            #expect(message?["gcm.notification.title"] == "Hi")
            #expect(message?["gcm.notification.body"] == "Hello")
            #expect(message?["gcm.notification.vibrate"] == false)
            #expect(message?["gcm.notification.silent"] == false)
            #expect(message?["gcm.notification.sound"] == nil)
            // The Java client reads these two as strings holding JSON.
            let internalData = try JSONParser.parse(Array((message?["internalData"]?.stringValue ?? "").utf8))
            #expect(internalData == ["sendDateTime": 1_700_000_000_000, "inbox": ["topic": "news", "seen": false]])
            let customPayload = try JSONParser.parse(Array((message?["customPayload"]?.stringValue ?? "").utf8))
            #expect(customPayload == ["k": "v"])
        }
    }

    @Test func silentMessagesCarryTheirTextsInInternalDataOnIOS() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await Self.put(client, code, "alice", ["title": "T", "body": "B", "silent": true])
            let message = try await Self.fetch(client, "alice", auth: "App \(code)").body["messages"]?.arrayValue?.first
            #expect(message?["aps"] == ["content-available": 1])
            #expect(message?["internalData"]?["silent"] == ["body": "B", "title": "T"])
            #expect(message?["silent"] == true)
        }
    }

    // MARK: Filters

    @Test func filtersAndLimit() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            for index in 0..<25 {
                _ = try await Self.put(
                    client, code, "alice",
                    ["messageId": .string("m\(index)"), "body": .string("b\(index)"),
                     "topic": index % 2 == 0 ? "even" : "odd", "sentTimestamp": .number(JSONNumber(1000 + index))])
            }
            _ = try await Self.put(client, code, "bob", ["body": "not alice's"])
            let app = "App \(code)"
            let all = try await Self.fetch(client, "alice", auth: app)
            #expect(all.body["countTotal"] == 25)
            #expect(all.body["messages"]?.arrayValue?.count == 20)
            #expect(all.body["messages"]?.arrayValue?.first?["messageId"] == "m24")
            let limited = try await Self.fetch(client, "alice", auth: app, query: "?limit=3&messageTopic=odd")
            #expect(limited.body["countTotal"] == 12)
            #expect(limited.body["messages"]?.arrayValue?.compactMap { $0["messageId"]?.stringValue } == ["m23", "m21", "m19"])
            let range = try await Self.fetch(client, "alice", auth: app, query: "?dateTimeFrom=1003&dateTimeTo=1005")
            #expect(range.body["messages"]?.arrayValue?.compactMap { $0["messageId"]?.stringValue } == ["m5", "m4", "m3"])
            #expect(range.body["countTotal"] == 3)
            for query in ["?limit=0", "?limit=abc", "?limit=1001", "?dateTimeFrom=yesterday", "?dateTimeTo=-5"] {
                let reply = try await Self.fetch(client, "alice", auth: app, query: query)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(query)")
            }
            let cloud = try await Self.fetch(client, "alice", auth: app, cloud: "fcm")
            #expect(cloud.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    // MARK: Seen

    @Test func seenMarksUpdateMessagesAndCountsOnce() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            for id in ["m1", "m2", "m3"] { _ = try await Self.put(client, code, "alice", ["messageId": .string(id), "body": "x"]) }
            _ = try await Self.put(client, code, "bob", ["messageId": "b1", "body": "x"])
            let first = try await Self.seen(client, code, Self.mark("alice", ["m1", "m2", "unknown", "b1"], delta: 5))
            #expect(first.status == 200, "\(first.text)")
            #expect(first.body == [:])
            let inbox = try await Self.fetch(client, "alice", auth: "App \(code)")
            #expect(inbox.body["countUnread"] == 1)
            #expect(inbox.body["countTotal"] == 3)
            let seenIds = inbox.body["messages"]?.arrayValue?.filter { $0["internalData"]?["inbox"]?["seen"] == true }
                .compactMap { $0["messageId"]?.stringValue }.sorted()
            #expect(seenIds == ["m1", "m2"])
            // Bob's message is not alice's to mark.
            #expect(try await Self.fetch(client, "bob", auth: "App \(code)").body["countUnread"] == 1)

            let admin = try await client.admin(.get, "/admin/applications/\(code)/inbox/alice")
            let m1 = admin.body["messages"]?.arrayValue?.first { $0["messageId"] == "m1" }
            let expected = Int(client.clock.now.timeIntervalSince1970 * 1000) - 5000
            #expect(m1?["seenTimestamp"]?.numberValue?.intValue == expected)
            // Again, later: nothing changes (the first seen time stays).
            client.clock.advance(60)
            #expect(try await Self.seen(client, code, Self.mark("alice", ["m1", "m2"])).status == 200)
            let after = try await client.admin(.get, "/admin/applications/\(code)/inbox/alice")
            #expect(after.body == admin.body)
        }
    }

    @Test func seenReportsOfPushesAreAcceptedAndIgnored() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication(authorization: .disallowAll)
            _ = try await Self.put(client, code, "alice", ["messageId": "m1", "body": "x"])
            let push = try await Self.seen(client, code, ["messages": [["messageId": "m1", "timestampDelta": 1]]])
            #expect(push.status == 200)
            #expect(try await client.admin(.get, "/admin/applications/\(code)/inbox/alice").body["countUnread"] == 1)
        }
    }

    @Test func seenRefusals() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let key = try await client.createKey(code)
            let bearer = try await Self.seen(
                client, code, Self.mark("alice", ["m1"]), auth: "Bearer \(client.token(key, code: code, sub: "alice"))")
            #expect(bearer.messageId == "AUTHORIZATION_INVALID")
            #expect(try await Self.seen(client, code, Self.mark("alice", ["m1"]), auth: "App nope").messageId == "INVALID_APPLICATION_CODE")
            for body: JSONValue in [
                [:], ["messages": "m1"], ["messages": [["inbox": true]]],
                ["messages": [["messageId": "m1", "timestampDelta": 1, "inbox": true]]],
                ["externalUserId": "a", "messages": [["messageId": "m1", "timestampDelta": -1, "inbox": true]]],
                ["externalUserId": "a", "messages": [["messageId": "m1", "timestampDelta": 1e12, "inbox": true]]],
                ["externalUserId": "a", "messages": [["messageId": "m1", "seen": true]]],
            ] {
                let reply = try await Self.seen(client, code, body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(body)")
            }
        }
    }

    @Test(arguments: UserDataAuthorization.allCases)
    func seenUnderEachSetting(_ setting: UserDataAuthorization) async throws {
        try await Harness().run { client in
            let code = try await client.createApplication(authorization: setting)
            _ = try await Self.put(client, code, "alice", ["messageId": "m1", "body": "x"])
            let reply = try await Self.seen(client, code, Self.mark("alice", ["m1"]))
            let unread = try await client.admin(.get, "/admin/applications/\(code)/inbox/alice").body["countUnread"]
            if setting == .disallowAll {
                #expect(reply.status == 403)
                #expect(reply.messageId == "USER_DATA_RESTRICTED")
                #expect(unread == 1)
            } else {
                #expect(reply.status == 200, "\(reply.text)")
                #expect(unread == 0)
            }
        }
    }

    // MARK: Authorization of the fetch

    enum AuthCase: String, CaseIterable, Sendable {
        case app = "App"
        case valid = "valid token"
        case otherPerson = "token for another person"
        case expired = "expired token"
        case malformed = "malformed token"
        case badSignature = "token signed with another key"
        case noHeader = "no Authorization"
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var setting: UserDataAuthorization
        var auth: AuthCase
        var testDescription: String { "\(setting.rawValue) / \(auth.rawValue)" }
    }

    static let cases = UserDataAuthorization.allCases.flatMap { setting in AuthCase.allCases.map { Case(setting: setting, auth: $0) } }

    /// (status, messageId); a nil messageId is success. The same codes as user data.
    static func expected(_ c: Case) -> (Int, String?) {
        switch (c.setting, c.auth) {
        case (_, .noHeader): (401, "AUTHORIZATION_INVALID")
        // No application can be read from it, so no setting either.
        case (_, .malformed): (401, "ACCESS_TOKEN_INVALID")
        case (.disallowAll, _): (403, "USER_DATA_RESTRICTED")
        case (.jwtOnly, .app): (401, "ACCESS_TOKEN_MISSING")
        case (_, .app), (_, .valid): (200, nil)
        case (_, .otherPerson): (401, "ACCESS_TOKEN_SUBJECT_MISMATCH")
        case (_, .expired): (401, "ACCESS_TOKEN_EXPIRED")
        case (_, .badSignature): (401, "ACCESS_TOKEN_INVALID")
        }
    }

    @Test(arguments: cases)
    func fetchAuthorization(_ c: Case) async throws {
        try await Harness().run { client in
            let code = try await client.createApplication(authorization: c.setting)
            let key = try await client.createKey(code)
            _ = try await Self.put(client, code, "alice", ["messageId": "m1", "body": "x"])
            let auth: String? =
                switch c.auth {
                case .app: "App \(code)"
                case .valid: "Bearer \(client.token(key, code: code, sub: "alice"))"
                case .otherPerson: "Bearer \(client.token(key, code: code, sub: "bob"))"
                case .expired: "Bearer \(client.token(key, code: code, sub: "alice", lifetime: 60, issuedAgo: 120))"
                case .malformed: "Bearer not.a-token"
                case .badSignature:
                    "Bearer \(client.token(Client.Key(keyId: key.keyId, secret: String(repeating: "ab", count: 32)), code: code, sub: "alice"))"
                case .noHeader: nil
                }
            let reply = try await Self.fetch(client, "alice", auth: auth)
            let (status, messageId) = Self.expected(c)
            #expect(reply.status == status, "\(reply.text)")
            #expect(reply.messageId == messageId, "\(reply.text)")
            if messageId == nil { #expect(reply.body["countTotal"] == 1) }
        }
    }

    @Test func tokensNameTheirApplication() async throws {
        try await Harness().run { client in
            let a = try await client.createApplication(authorization: .jwtOnly)
            let b = try await client.createApplication(authorization: .jwtOnly)
            let keyA = try await client.createKey(a)
            let keyB = try await client.createKey(b)
            _ = try await Self.put(client, a, "alice", ["body": "in a"])
            // A token of b reads b's inbox of alice, not a's.
            let inB = try await Self.fetch(client, "alice", auth: "Bearer \(client.token(keyB, code: b, sub: "alice"))")
            #expect(inB.status == 200)
            #expect(inB.body["countTotal"] == 0)
            // A token claiming a but signed with b's key: b's key is not a's.
            let crossed = try await Self.fetch(client, "alice", auth: "Bearer \(client.token(keyB, code: a, sub: "alice"))")
            #expect(crossed.messageId == "ACCESS_TOKEN_KEY_UNKNOWN")
            let nowhere = try await Self.fetch(client, "alice", auth: "Bearer \(client.token(keyA, code: "nope", sub: "alice"))")
            #expect(nowhere.messageId == "ACCESS_TOKEN_APPLICATION_MISMATCH")
            #expect(try await Self.fetch(client, "alice", auth: "App nope").messageId == "INVALID_APPLICATION_CODE")
        }
    }

    // MARK: Faults

    @Test func faultInjectionAppliesToTheInboxRoutes() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await Self.put(client, code, "alice", ["messageId": "m1", "body": "x"])
            _ = try await client.admin(
                .put, "/admin/faults",
                json: [["method": "GET", "path": "/mobile/1/user/*/inbox/*/messages", "status": 500, "count": 1],
                       ["path": "/mobile/2/messages/seen", "status": 503, "messageId": "DOWN"]])
            #expect(try await Self.fetch(client, "alice", auth: "App \(code)").messageId == "FAULT_INJECTED")
            #expect(try await Self.fetch(client, "alice", auth: "App \(code)").status == 200)
            let seen = try await Self.seen(client, code, Self.mark("alice", ["m1"]))
            #expect(seen.status == 503)
            #expect(seen.messageId == "DOWN")
            #expect(try await client.admin(.get, "/admin/applications/\(code)/inbox/alice").body["countUnread"] == 1)
        }
    }
}
