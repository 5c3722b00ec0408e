import Foundation
import HummingbirdTesting
import JSON
import Testing

@testable import MobileAPIServer

@Suite("Persistence and transports")
struct PersistenceTests {
    /// Two servers in sequence on one database file: the second sees all the first wrote.
    @Test func fileDatabaseSurvivesRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = DatabaseLocation.file(directory.appendingPathComponent("db.sqlite").path)

        let (key, pushRegId) = try await Harness(database: database).run { client in
            let code = try await client.createApplication("kept", authorization: .jwtOnly)
            let key = try await client.createKey(code)
            let revoked = try await client.createKey(code)
            _ = try await client.admin(.delete, "/admin/applications/kept/keys/\(revoked.keyId)")
            let pushRegId = try await client.register(code, ["os": "Linux", "appVersion": "3"])
            let token = client.token(key, code: code, sub: "alice")
            let personalized = try await client.personalize(
                pushRegId, auth: "Bearer \(token)", identity: ["externalUserId": "alice", "emails": ["alice@example.com"]],
                attributes: ["customAttributes": ["n": 1]])
            #expect(personalized.status == 200)
            return (key, pushRegId)
        }

        try await Harness(database: database).run { client in
            let application = try await client.admin(.get, "/admin/applications/kept")
            #expect(application.body["userDataAuthorization"] == "JWT_ONLY")
            let keys = try await client.admin(.get, "/admin/applications/kept/keys")
            #expect(keys.body.arrayValue?.map { $0["revoked"] } == [false, true])
            let token = client.token(key, code: "kept", sub: "alice")
            let user = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            #expect(user.status == 200)
            #expect(user.body["externalUserId"] == "alice")
            #expect(user.body["emails"]?.arrayValue?.first?["address"] == "alice@example.com")
            #expect(user.body["customAttributes"] == ["n": 1])
            #expect(user.body["instances"]?.arrayValue?.first?["appVersion"] == "3")
            // Uniqueness survives too.
            let other = try await client.register("kept")
            try await client.setAuthorization("kept", .allowAll)
            let conflict = try await client.send(
                .patch, "/mobile/1/appinstance/\(other)/user", auth: "App kept", json: ["emails": ["alice@example.com"]])
            #expect(conflict.messageId == "USER_MERGE_INTERRUPTED")
        }
    }

    /// Event definitions, events and inboxes (with their seen state) are on the file too.
    @Test func eventsAndInboxesSurviveRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = DatabaseLocation.file(directory.appendingPathComponent("db.sqlite").path)

        let pushRegId = try await Harness(database: database).run { client in
            let code = try await client.createApplication("kept")
            let definition = try await client.admin(
                .post, "/admin/applications/kept/event-definitions",
                json: ["definitionId": "opened", "properties": [["name": "on", "type": "date"]]])
            #expect(definition.status == 201)
            let pushRegId = try await client.register(code)
            let sent = try await client.send(
                .post, "/mobile/1/appinstance/\(pushRegId)/user/events/custom?validate=true", auth: "App kept",
                json: ["events": [["definitionId": "opened", "date": "2026-02-26T09:41:57Z", "properties": ["on": "2026-02-26"]]]])
            #expect(sent.status == 200)
            for id in ["m1", "m2"] {
                let put = try await client.admin(.post, "/admin/applications/kept/inbox/alice", json: ["messageId": .string(id), "body": "x"])
                #expect(put.status == 201)
            }
            let seen = try await client.send(
                .post, "/mobile/2/messages/seen", auth: "App kept",
                json: ["externalUserId": "alice", "messages": [["messageId": "m1", "timestampDelta": 0, "inbox": true]]])
            #expect(seen.status == 200)
            return pushRegId
        }

        try await Harness(database: database).run { client in
            let definitions = try await client.admin(.get, "/admin/applications/kept/event-definitions")
            #expect(definitions.body.arrayValue?.first?["properties"] == [["name": "on", "type": "date"]])
            let events = try await client.admin(.get, "/admin/applications/kept/events")
            #expect(events.body.arrayValue?.map { $0["pushRegId"] } == [.string(pushRegId)])
            let inbox = try await client.send(.get, "/mobile/1/user/alice/inbox/apns/messages", auth: "App kept")
            #expect(inbox.body["countTotal"] == 2)
            #expect(inbox.body["countUnread"] == 1)
            // The definition still validates after the restart.
            let refused = try await client.send(
                .post, "/mobile/1/appinstance/\(pushRegId)/user/events/custom?validate=true", auth: "App kept",
                json: ["events": [["definitionId": "opened", "date": "2026-02-26T09:41:57Z", "properties": ["on": 1]]]])
            #expect(refused.messageId == "EVENT_PROPERTY_INVALID")
        }
    }

    /// The same flow through the router and through a real socket.
    @Test(arguments: [TestingSetup.router, .live])
    func flowOverBothTransports(_ setup: TestingSetup) async throws {
        try await Harness().run(setup) { client in
            let code = try await client.createApplication(authorization: .jwtOnly)
            let key = try await client.createKey(code)
            let pushRegId = try await client.register(code)
            let token = client.token(key, code: code, sub: "alice")
            let personalized = try await client.personalize(pushRegId, auth: "Bearer \(token)", identity: ["externalUserId": "alice"])
            #expect(personalized.status == 200)
            let patched = try await client.send(
                .patch, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)", json: ["firstName": "Alice"],
                headers: HTTPFieldsBuilder.caller(pushRegId))
            #expect(patched.status == 200)
            #expect(patched.headers[.contentType] == "application/json; charset=utf-8")
            let refused = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)")
            #expect(refused.status == 401)
            #expect(refused.messageId == "ACCESS_TOKEN_MISSING")
            let health = try await client.send(.get, "/health")
            #expect(health.body == ["status": "ok"])
        }
    }
}

extension TestingSetup: @retroactive CustomTestStringConvertible {
    public var testDescription: String { "\(self)".contains("live") ? "live" : "router" }
}
