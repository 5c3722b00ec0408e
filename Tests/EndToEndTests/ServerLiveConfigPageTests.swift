import Foundation
import JSON
import Testing

/// The configuration page in a real (headless) browser: its script reads the token from
/// the fragment, calls the admin API and renders the data as text.
@Suite("Configuration page in a browser")
struct ServerLiveConfigPageTests {
    static let browser: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(ServerProcess.onPath).first

    /// The DOM after the page's script has run.
    static func renderedDOM(_ url: String) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await ServerProcess.runProgram(
            try #require(browser),
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=\(profile.path)",
                "--virtual-time-budget=5000", "--dump-dom", url,
            ]
        ).stdout
    }

    @Test(.enabled(if: ExternalTools.runs(browser != nil), "no chromium on PATH"))
    func rendersProfilesKeysPeopleAndInstallations() async throws {
        try #require(Self.browser != nil, "chromium is required under CI: run scripts/setup")
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        let created = try await server.admin(
            "POST", "/admin/applications", json: ["code": "page-app", "name": "<b>bold</b> app", "userDataAuthorization": "JWT_ONLY"])
        #expect(created.status == 201)
        let (_, key) = try await server.admin("POST", "/admin/applications/page-app/keys")
        let keyId = try #require(key["keyId"]?.stringValue)
        let secret = try #require(key["secret"]?.stringValue)
        let pushRegId = try await server.registerInstallation(applicationCode: "page-app", json: ["os": "Android"])
        let token = try await ServerProcess.mintToken(kid: keyId, secret: secret, applicationCode: "page-app", sub: "alice")
        let personalized = try await server.mobile(
            "POST", "/mobile/1/appinstance/\(pushRegId)/personalize", auth: "Bearer \(token)",
            json: ["userIdentity": ["externalUserId": "alice"]])
        #expect(personalized.status == 200)

        let dom = try await Self.renderedDOM("\(server.url.absoluteString)/config#token=\(server.adminToken)")
        #expect(dom.contains(#"data-testid="application-code">page-app<"#))
        #expect(dom.contains("&lt;b&gt;bold&lt;/b&gt; app"), "names are text, never markup")
        #expect(!dom.contains("<b>bold</b>"))
        #expect(dom.contains(keyId))
        #expect(!dom.contains(secret), "the secret is shown only when a key is created")
        #expect(dom.contains(pushRegId))
        #expect(dom.contains(">alice<"))
        #expect(dom.contains(">CUSTOMER<"))

        let refused = try await Self.renderedDOM("\(server.url.absoluteString)/config#token=wrong")
        #expect(refused.contains("ADMIN_UNAUTHORIZED"))
        #expect(!refused.contains(pushRegId))
    }

    // MARK: Click-through (selenium + chromedriver)

    static let canClick = browser != nil && ExternalTools.chromedriver != nil && ExternalTools.selenium

    /// Runs scripts/config-page-clickthrough; returns the JSON it prints.
    static func clickThrough(_ arguments: [String]) async throws -> JSONValue {
        let python = try #require(ExternalTools.python, "python3 is not on PATH")
        let script = CoreProcess.packageRoot.appendingPathComponent("scripts/config-page-clickthrough").path
        let run = try await ServerProcess.runProgram(python, [script] + arguments)
        try #require(run.status == 0, "config-page-clickthrough \(arguments.first ?? ""): \(run.stderr)")
        return try JSONParser.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("click JWT_ONLY and Create key; the key's tokens work, App auth is refused; Revoke refuses them",
          .enabled(if: ExternalTools.runs(canClick), "chromium, chromedriver or python selenium missing (scripts/setup)"))
    func clickThroughJWTOnlyAndKeyRevocation() async throws {
        try #require(Self.canClick, "chromium, chromedriver and python3 selenium are required under CI: run scripts/setup")
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        _ = try await server.admin("POST", "/admin/applications", json: ["code": "first-app", "userDataAuthorization": "ALLOW_ALL"])
        let created = try await server.admin(
            "POST", "/admin/applications", json: ["code": "click-app", "name": "Click", "userDataAuthorization": "ALLOW_ALL"])
        #expect(created.status == 201)
        let pushRegId = try await server.registerInstallation(applicationCode: "click-app")
        let before = try await server.mobile("GET", "/mobile/1/appinstance/\(pushRegId)/user", auth: "App click-app")
        #expect(before.status == 200, "ALLOW_ALL accepts App auth before the click: \(before.body)")

        let key = try await Self.clickThrough(["jwt-only-and-key", server.url.absoluteString, server.adminToken, "click-app"])
        let keyId = try #require(key["keyId"]?.stringValue)
        let secret = try #require(key["secret"]?.stringValue)
        #expect(key["status"] == "Key created.")
        #expect(secret.count == 64, "the page shows the hex secret once")
        #expect(try await server.admin("GET", "/admin/applications/click-app").body["userDataAuthorization"] == "JWT_ONLY")
        #expect(try await server.admin("GET", "/admin/applications/first-app").body["userDataAuthorization"] == "ALLOW_ALL",
                "only the selected application changed")

        // A token minted with the key the page showed is accepted ...
        let token = try await ServerProcess.mintToken(kid: keyId, secret: secret, applicationCode: "click-app", sub: "alice")
        let (personalized, user) = try await server.personalizeAndFetch(pushRegId, as: "alice", token: token)
        #expect(personalized.status == 200, "\(personalized.body)")
        #expect(user.status == 200)
        #expect(user.body["externalUserId"] == "alice")
        // ... and App auth no longer is (JWT_ONLY).
        let app = try await server.mobile("GET", "/mobile/1/appinstance/\(pushRegId)/user", auth: "App click-app")
        #expect(app.status == 401)
        #expect(app.body["requestError"]?["serviceException"]?["messageId"] == "ACCESS_TOKEN_MISSING")

        let revoked = try await Self.clickThrough(["revoke-key", server.url.absoluteString, server.adminToken, "click-app", keyId])
        #expect(revoked["state"] == "revoked")
        let refused = try await server.mobile("GET", "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
        #expect(refused.status == 401)
        #expect(refused.body["requestError"]?["serviceException"]?["messageId"] == "ACCESS_TOKEN_KEY_UNKNOWN")
    }
}
