import Foundation
import JSON
import Testing

/// Black-box tests of the built `mmserver`: spawned, spoken to over HTTP only.
@Suite("mmserver, live process")
struct ServerLiveTests {
    @Test func jwtOnlyFlowWithMintedToken() async throws {
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        let app = try await server.createApplication(authorization: "JWT_ONLY")
        let pushRegId = try await server.registerInstallation(applicationCode: app.code)
        let token = try await ServerProcess.mintToken(
            kid: app.keyId, secret: app.secret, applicationCode: app.code, sub: "alice")
        let bearer = "Bearer \(token)"

        let personalized = try await server.mobile(
            "POST", "/mobile/1/appinstance/\(pushRegId)/personalize", auth: bearer,
            json: ["userIdentity": ["externalUserId": "alice"]], pushRegistrationId: pushRegId)
        #expect(personalized.status == 200)
        #expect(personalized.body["externalUserId"] == "alice")
        #expect(personalized.body["type"] == "CUSTOMER")

        let patched = try await server.mobile(
            "PATCH", "/mobile/1/appinstance/\(pushRegId)/user", auth: bearer, json: ["firstName": "Alice"],
            pushRegistrationId: pushRegId)
        #expect(patched.status == 200)
        #expect(patched.body["firstName"] == "Alice")

        let before = try await server.lastRequestSeq()
        let refused = try await server.mobile(
            "PATCH", "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(app.code)", json: ["firstName": "Eve"],
            pushRegistrationId: pushRegId)
        #expect(refused.status == 401)
        #expect(refused.body["requestError"]?["serviceException"]?["messageId"] == "ACCESS_TOKEN_MISSING")

        let logged = try await server.requests(since: before)
        #expect(logged.count == 1)
        #expect(logged.first?["auth"] == "App")
        #expect(logged.first?["status"] == 401)

        // The token never reaches a log line.
        #expect(await server.stop() == 0)
        #expect(!server.log().contains(token))
        #expect(!server.log().contains(token.split(separator: ".")[2]))
    }

    @Test func fileDatabaseSurvivesRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("server.sqlite").path

        let first = try await ServerProcess.start(arguments: ["--db", database])
        let app = try await first.createApplication(authorization: "JWT_ONLY", code: "persisted-app")
        let pushRegId = try await first.registerInstallation(applicationCode: app.code)
        #expect(await first.stop() == 0)

        let second = try await ServerProcess.start(arguments: ["--db", database])
        defer { second.terminate() }
        let application = try await second.admin("GET", "/admin/applications/persisted-app")
        #expect(application.status == 200)
        #expect(application.body["userDataAuthorization"] == "JWT_ONLY")
        let installation = try await second.mobile(
            "GET", "/mobile/1/appinstance/\(pushRegId)", auth: "App persisted-app")
        #expect(installation.status == 200)
        // The key made by the first process still signs tokens the second accepts.
        let token = try await ServerProcess.mintToken(kid: app.keyId, secret: app.secret, applicationCode: app.code, sub: "bob")
        let personalized = try await second.mobile(
            "POST", "/mobile/1/appinstance/\(pushRegId)/personalize", auth: "Bearer \(token)",
            json: ["userIdentity": ["externalUserId": "bob"]])
        #expect(personalized.status == 200)
    }

    @Test func printsURLThenConfigurationPage() async throws {
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        #expect(server.url.absoluteString.hasPrefix("http://127.0.0.1:"))
        let page = try await server.request("GET", "/config")
        #expect(page.status == 200)
        #expect(page.text.contains("<html"))
        let unauthorized = try await server.request("GET", "/admin/applications")
        #expect(unauthorized.status == 401)
        #expect(unauthorized.body["requestError"]?["serviceException"]?["messageId"] == "ADMIN_UNAUTHORIZED")
    }

    @Test func appCreateCommand() async throws {
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        let output = try await ServerProcess.run([
            "app", "create", "--server", server.url.absoluteString, "--admin-token", server.adminToken,
            "--code", "cli-app", "--authorization", "DISALLOW_ALL",
        ])
        let created = try JSONParser.parse(output)
        #expect(created["applicationCode"] == "cli-app")
        #expect(created["secret"]?.stringValue?.count == 64)
        let keyId = try #require(created["keyId"]?.stringValue)
        let keys = try await server.admin("GET", "/admin/applications/cli-app/keys")
        #expect(keys.body.arrayValue?.first?["keyId"]?.stringValue == keyId)
        #expect(try await server.admin("GET", "/admin/applications/cli-app").body["userDataAuthorization"] == "DISALLOW_ALL")
        await #expect(throws: ServerProcess.Failure.self) {
            try await ServerProcess.run(["app", "create", "--server", server.url.absoluteString, "--admin-token", "wrong"])
        }
    }
}
