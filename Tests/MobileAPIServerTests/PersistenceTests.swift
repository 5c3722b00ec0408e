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
