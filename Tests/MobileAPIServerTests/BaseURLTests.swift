import Foundation
import HTTPTypes
import JSON
import Testing

@testable import MobileAPIServer

/// The dynamic base URL (`docs/mmserver.md`, "Dynamic base URL"): `GET /mobile/1/baseurl`,
/// and the admin setting after which every Mobile API response of the application
/// carries `New-Base-URL`.
@Suite("Dynamic base URL")
struct BaseURLTests {
    static let elsewhere = "http://127.0.0.1:45678"

    static func setBaseURL(_ client: Client, _ code: String, _ url: JSONValue) async throws -> Reply {
        try await client.admin(.put, "/admin/applications/\(code)/base-url", json: ["baseUrl": url])
    }

    @Test func baseURLEndpointNeedsAppAuthorization() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let reply = try await client.send(.get, "/mobile/1/baseurl", auth: "App \(code)")
            #expect(reply.status == 200, "\(reply.text)")
            // Unset: the URL the client reached this server at.
            #expect(reply.body == ["baseUrl": "http://localhost"])
            #expect(reply.headers[.newBaseURL] == nil)
            #expect(try await client.send(.get, "/mobile/1/baseurl").messageId == "AUTHORIZATION_INVALID")
            #expect(try await client.send(.get, "/mobile/1/baseurl", auth: "App nope").messageId == "INVALID_APPLICATION_CODE")
            #expect(try await client.send(.get, "/mobile/1/baseurl", auth: "Bearer a.b.c").messageId == "AUTHORIZATION_INVALID")
        }
    }

    @Test func settingItSteersEveryResponseOfThatApplication() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let other = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let otherId = try await client.register(other)

            let set = try await Self.setBaseURL(client, code, .string(Self.elsewhere))
            #expect(set.status == 200, "\(set.text)")
            #expect(set.body["baseUrl"] == .string(Self.elsewhere))
            #expect(try await client.admin(.get, "/admin/applications/\(code)").body["baseUrl"] == .string(Self.elsewhere))

            let user = "/mobile/1/appinstance/\(pushRegId)/user"
            let replies: [(String, Reply)] = [
                ("baseurl", try await client.send(.get, "/mobile/1/baseurl", auth: "App \(code)")),
                ("register", try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:])),
                ("installation", try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)", auth: "App \(code)")),
                ("user", try await client.send(.get, user, auth: "App \(code)")),
                ("patch user", try await client.send(.patch, user, auth: "App \(code)", json: ["firstName": "Ada"])),
                ("refused patch", try await client.send(.patch, user, auth: "App \(code)", json: ["type": "LEAD"])),
                ("personalize", try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "ada"])),
                ("depersonalize", try await client.send(.post, "/mobile/1/appinstance/\(pushRegId)/depersonalize", auth: "App \(code)")),
            ]
            for (name, reply) in replies {
                #expect(reply.headers[.newBaseURL] == Self.elsewhere, "\(name): \(reply.status) \(reply.text.prefix(200))")
            }
            #expect(replies[0].1.body == ["baseUrl": .string(Self.elsewhere)])
            #expect(replies[5].1.status == 400)

            // Another application, and the admin API, are not steered.
            let untouched = try await client.send(.get, "/mobile/1/appinstance/\(otherId)/user", auth: "App \(other)")
            #expect(untouched.status == 200)
            #expect(untouched.headers[.newBaseURL] == nil)
            #expect(try await client.send(.get, "/mobile/1/baseurl", auth: "App \(other)").headers[.newBaseURL] == nil)
            #expect(try await client.admin(.get, "/admin/applications").headers[.newBaseURL] == nil)

            // null clears it.
            let cleared = try await Self.setBaseURL(client, code, .null)
            #expect(cleared.status == 200)
            #expect(cleared.body["baseUrl"] == nil)
            let after = try await client.send(.get, user, auth: "App \(code)")
            #expect(after.headers[.newBaseURL] == nil)
            #expect(try await client.send(.get, "/mobile/1/baseurl", auth: "App \(code)").body == ["baseUrl": "http://localhost"])
        }
    }

    @Test(arguments: [
        "ftp://127.0.0.1", "127.0.0.1:8080", "http://", "http://host/path?query=1", "http://host/#fragment",
        "http://user:pass@host", "", "http://host with space",
    ])
    func invalidBaseURLIsRefused(_ url: String) async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let reply = try await Self.setBaseURL(client, code, .string(url))
            #expect(reply.status == 400, "\(url): \(reply.text)")
            #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(url)")
            #expect(try await client.admin(.get, "/admin/applications/\(code)").body["baseUrl"] == nil)
        }
    }

    @Test func otherRefusals() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            #expect(try await Self.setBaseURL(client, "nope", .string(Self.elsewhere)).messageId == "APPLICATION_NOT_FOUND")
            let unknownField = try await client.admin(
                .put, "/admin/applications/\(code)/base-url", json: ["baseUrl": .string(Self.elsewhere), "x": 1])
            #expect(unknownField.messageId == "REQUEST_FORMAT_INVALID")
            let missing = try await client.admin(.put, "/admin/applications/\(code)/base-url", json: [:])
            #expect(missing.messageId == "REQUEST_FORMAT_INVALID")
            let unauthorized = try await client.send(
                .put, "/admin/applications/\(code)/base-url", json: ["baseUrl": .string(Self.elsewhere)])
            #expect(unauthorized.messageId == "ADMIN_UNAUTHORIZED")
        }
    }

    /// A trailing slash is dropped, so `<baseUrl>/mobile/1/...` has one slash; the setting
    /// survives a restart on a file database.
    @Test func normalizedAndPersisted() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = DatabaseLocation.file(directory.appendingPathComponent("db.sqlite").path)
        try await Harness(database: database).run { client in
            let code = try await client.createApplication("moved")
            let reply = try await Self.setBaseURL(client, code, "https://eu.example.com/")
            #expect(reply.body["baseUrl"] == "https://eu.example.com")
        }
        try await Harness(database: database).run { client in
            let pushRegId = try await client.register("moved")
            let reply = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)", auth: "App moved")
            #expect(reply.headers[.newBaseURL] == "https://eu.example.com")
        }
    }
}

