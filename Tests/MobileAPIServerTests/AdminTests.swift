import Foundation
import HTTPTypes
import JSON
import Testing

@testable import MobileAPIServer

/// The admin API: its guard, application profiles, people, installations, the request log.
@Suite("Admin API")
struct AdminTests {
    @Test func adminTokenIsRequired() async throws {
        try await Harness().run { client in
            for auth in [nil, "Bearer wrong", "Bearer \(Harness.adminToken)x", Harness.adminToken, "App \(Harness.adminToken)"] as [String?] {
                for (method, path) in [(HTTPRequest.Method.get, "/admin/applications"), (.post, "/admin/applications"), (.put, "/admin/faults")] {
                    let reply = try await client.send(method, path, auth: auth, json: [:])
                    #expect(reply.status == 401, "\(path) \(String(describing: auth))")
                    #expect(reply.messageId == "ADMIN_UNAUTHORIZED")
                }
            }
            #expect(try await client.admin(.get, "/admin/applications").status == 200)
        }
    }

    @Test func applicationProfiles() async throws {
        try await Harness().run { client in
            let generated = try await client.admin(.post, "/admin/applications", json: [:])
            #expect(generated.status == 201)
            let code = try #require(generated.body["code"]?.stringValue)
            #expect(code.count == 32)
            #expect(generated.body["userDataAuthorization"] == "ALLOW_ALL")
            #expect(generated.body["name"]?.stringValue?.isEmpty == false)

            let named = try await client.admin(
                .post, "/admin/applications", json: ["code": "my-app", "name": "My app", "userDataAuthorization": "JWT_ONLY"])
            #expect(named.body == ["code": "my-app", "name": "My app", "userDataAuthorization": "JWT_ONLY"])
            let duplicate = try await client.admin(.post, "/admin/applications", json: ["code": "my-app"])
            #expect(duplicate.status == 409)
            #expect(duplicate.messageId == "APPLICATION_EXISTS")
            for body: JSONValue in [["userDataAuthorization": "SOMETIMES"], ["code": "has space"], ["code": ""], ["colour": "red"]] {
                let bad = try await client.admin(.post, "/admin/applications", json: body)
                #expect(bad.status == 400, "\(body)")
                #expect(bad.messageId == "REQUEST_FORMAT_INVALID")
            }

            let patched = try await client.admin(.patch, "/admin/applications/my-app", json: ["userDataAuthorization": "DISALLOW_ALL"])
            #expect(patched.body["userDataAuthorization"] == "DISALLOW_ALL")
            #expect(patched.body["name"] == "My app")
            #expect(try await client.admin(.get, "/admin/applications/my-app").body == patched.body)
            #expect(try await client.admin(.get, "/admin/applications").body.arrayValue?.count == 2)
            let missing = try await client.admin(.get, "/admin/applications/nope")
            #expect(missing.status == 404)
            #expect(missing.messageId == "APPLICATION_NOT_FOUND")
            #expect(try await client.admin(.post, "/admin/applications/nope/keys").messageId == "APPLICATION_NOT_FOUND")
        }
    }

    @Test func keys() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let created = try await client.admin(.post, "/admin/applications/\(code)/keys")
            #expect(created.status == 201)
            let secret = try #require(created.body["secret"]?.stringValue)
            #expect(secret.count == 64)
            #expect(secret.allSatisfy { $0.isHexDigit })
            let keyId = try #require(created.body["keyId"]?.stringValue)
            let listing = try await client.admin(.get, "/admin/applications/\(code)/keys")
            #expect(listing.body.arrayValue?.first?["keyId"]?.stringValue == keyId)
            #expect(listing.body.arrayValue?.first?["revoked"] == false)
            #expect(listing.body.arrayValue?.first?["createdAt"]?.stringValue != nil)
            #expect(!listing.text.contains(secret))
            let other = try await client.createApplication()
            let wrongApp = try await client.admin(.delete, "/admin/applications/\(other)/keys/\(keyId)")
            #expect(wrongApp.status == 404)
            #expect(wrongApp.messageId == "KEY_NOT_FOUND")
            let noKey = try await client.admin(.post, "/admin/applications/\(other)/tokens", json: ["externalUserId": "a"])
            #expect(noKey.messageId == "NO_ACTIVE_KEY")
        }
    }

    @Test func peopleAPIWorksUnderDisallowAll() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            _ = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"])
            try await client.setAuthorization(code, .disallowAll)
            let sdk = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)")
            #expect(sdk.messageId == "USER_DATA_RESTRICTED")

            let people = try await client.admin(.get, "/admin/applications/\(code)/people")
            #expect(people.body.arrayValue?.count == 1)
            let patched = try await client.admin(
                .patch, "/admin/applications/\(code)/people/alice", json: ["firstName": "Alice", "emails": ["alice@example.com"]])
            #expect(patched.status == 200)
            #expect(patched.body["firstName"] == "Alice")
            #expect(patched.body["id"]?.numberValue != nil)
            let fetched = try await client.admin(.get, "/admin/applications/\(code)/people/alice")
            #expect(fetched.body == patched.body)
            let invalid = try await client.admin(.patch, "/admin/applications/\(code)/people/alice", json: ["emails": ["x"]])
            #expect(invalid.messageId == "EMAIL_INVALID")

            let installations = try await client.admin(.get, "/admin/applications/\(code)/installations")
            #expect(installations.body.arrayValue?.first?["pushRegId"]?.stringValue == pushRegId)
            #expect(installations.body.arrayValue?.first?["externalUserId"] == "alice")

            let deleted = try await client.admin(.delete, "/admin/applications/\(code)/people/alice")
            #expect(deleted.status == 200)
            #expect(try await client.admin(.get, "/admin/applications/\(code)/people/alice").messageId == "PERSON_NOT_FOUND")
            // The installation stays registered, with an anonymous person.
            let after = try await client.admin(.get, "/admin/applications/\(code)/installations")
            #expect(after.body.arrayValue?.first?["externalUserId"] == .null)
            try await client.setAuthorization(code, .allowAll)
            let user = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)")
            #expect(user.body["type"] == "LEAD")
        }
    }

    @Test func peopleWithEncodedIds() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            _ = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "a b/c@d"])
            let fetched = try await client.admin(.get, "/admin/applications/\(code)/people/a%20b%2Fc%40d")
            #expect(fetched.status == 200, "\(fetched.text)")
            #expect(fetched.body["externalUserId"] == "a b/c@d")
        }
    }

    @Test func requestLog() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let key = try await client.createKey(code)
            let token = client.token(key, code: code, sub: "nobody")
            _ = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            _ = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user?x=1")

            let log = try await client.admin(.get, "/admin/requests")
            let entries = try #require(log.body.arrayValue)
            // Admin calls are not logged; only the three Mobile API requests.
            #expect(entries.count == 3)
            #expect(entries.map { $0["auth"] } == ["App", "Bearer", "none"])
            #expect(entries.map { $0["status"] } == [201, 401, 401])
            #expect(entries.map { $0["method"] } == ["POST", "GET", "GET"])
            #expect(entries[2]["path"]?.stringValue == "/mobile/1/appinstance/\(pushRegId)/user")
            #expect(entries.allSatisfy { $0["durationMs"]?.numberValue != nil })
            #expect(!log.text.contains(token))

            let seq = try #require(entries[1]["seq"]?.numberValue?.intValue)
            let since = try await client.admin(.get, "/admin/requests?since=\(seq)")
            #expect(since.body.arrayValue?.count == 1)

            #expect(try await client.admin(.delete, "/admin/requests").status == 200)
            #expect(try await client.admin(.get, "/admin/requests").body == [])
            _ = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)", auth: "App \(code)")
            let next = try await client.admin(.get, "/admin/requests?since=\(seq)")
            // Sequence numbers keep growing after a clear.
            #expect(next.body.arrayValue?.first?["seq"]?.numberValue?.intValue == 4)
        }
    }

    @Test func requestLogIsBounded() async {
        let log = RequestLog(capacity: 5)
        for index in 0..<20 { await log.append(method: "GET", path: "/mobile/\(index)", auth: "none", status: 200, durationMs: 0) }
        let entries = await log.entries()
        #expect(entries.count == 5)
        #expect(entries.map(\.seq) == [16, 17, 18, 19, 20])
    }

    @Test func configurationPageNeedsNoAuth() async throws {
        try await Harness().run { client in
            let page = try await client.send(.get, "/config")
            #expect(page.status == 200)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("<html"))
        }
    }
}
