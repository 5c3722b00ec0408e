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

    @Test(.enabled(if: browser != nil, "no chromium on PATH"))
    func rendersProfilesKeysPeopleAndInstallations() async throws {
        let server = try await ServerProcess.start()
        defer { server.stop() }
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
}
