import Foundation
import HTTPTypes
import HummingbirdTesting
import JSON
import Testing

@testable import MobileAPIServer

/// What a browser may be pointed at: `nosniff` on every response, the `Host` check that
/// keeps a DNS-rebinding page away from the configuration page and the admin API, and
/// oversized header lines answered with the error shape rather than an empty 400.
@Suite("Browser-facing headers")
struct BrowserHeadersTests {
    @Test(arguments: [TestingSetup.router, .live])
    func noSniffOnEveryResponse(_ setup: TestingSetup) async throws {
        try await Harness().run(setup) { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let replies: [(String, Reply)] = [
                ("register", try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:])),
                ("user", try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)")),
                ("Mobile API error", try await client.send(.get, "/mobile/1/appinstance/nope", auth: "App \(code)")),
                ("unknown path", try await client.send(.get, "/nowhere")),
                ("admin", try await client.admin(.get, "/admin/applications")),
                ("admin refusal", try await client.send(.get, "/admin/applications", auth: "Bearer wrong")),
                ("page", try await client.send(.get, "/config")),
                ("health", try await client.send(.get, "/health")),
            ]
            for (name, reply) in replies {
                #expect(reply.headers[.xContentTypeOptions] == "nosniff", "\(name): \(reply.status)")
            }
        }
    }

    /// A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends its own
    /// name as Host: the page and the admin API refuse it, even with the admin token.
    @Test func foreignHostIsRefusedOnThePageAndTheAdminAPI() async throws {
        try await Harness().run(.live) { client in
            let port = try #require(client.inner.port)
            let token = "Bearer \(Harness.adminToken)"
            for authority in ["evil.example:\(port)", "evil.example", "127.0.0.1.evil.example:\(port)", "localhost:1"] {
                let page = try await client.send(.get, "/config", authority: authority)
                #expect(page.status == 421, "\(authority): \(page.status)")
                #expect(page.messageId == "HOST_NOT_ALLOWED", "\(authority): \(page.text.prefix(200))")
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                let admin = try await client.send(.get, "/admin/applications", authority: authority, auth: token)
                #expect(admin.status == 421, "\(authority)")
                #expect(admin.messageId == "HOST_NOT_ALLOWED", "\(authority)")
            }
            let missing = try await client.send(.get, "/admin/applications", authority: nil, auth: token)
            #expect(missing.messageId == "HOST_NOT_ALLOWED")

            // The names the server listens on, with its port (or none: see docs/mmserver.md).
            for authority in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST:\(port)", "localhost"] {
                #expect(try await client.send(.get, "/config", authority: authority).status == 200, "\(authority)")
                #expect(
                    try await client.send(.get, "/admin/applications", authority: authority, auth: token).status == 200,
                    "\(authority)")
            }
            // The Mobile API serves devices, which reach the server under any name.
            let code = try await client.createApplication()
            let register = try await client.send(.post, "/mobile/1/appinstance", authority: "phone-lan-name:\(port)", auth: "App \(code)")
            #expect(register.status == 201, "\(register.text)")
        }
    }

    /// A 1 MiB header line: hummingbird's parser alone would answer an empty 400 and
    /// close; the server reads it and answers with the error shape.
    @Test(arguments: ["x-padding", "authorization"])
    func oneMebibyteHeaderLineGetsTheErrorShape(_ name: String) async throws {
        try await Harness().run(.live) { client in
            let code = try await client.createApplication()
            var headers = HTTPFields()
            headers[HTTPField.Name(name)!] = (name == "authorization" ? "Bearer " : "") + String(repeating: "a", count: 1 << 20)
            for path in ["/mobile/1/appinstance", "/admin/applications"] {
                let reply = try await client.send(.post, path, auth: name == "authorization" ? nil : "App \(code)", json: [:], headers: headers)
                #expect(reply.status == 431, "\(path): \(reply.status) \(reply.text.prefix(200))")
                #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(path)")
                #expect(reply.errorText?.contains("header") == true, "\(path)")
                #expect(reply.headers[.xContentTypeOptions] == "nosniff")
                #expect(reply.text.count < 1000, "the header is not echoed")
            }
            // The connection is still usable, and the request log saw the refusal.
            let log = try await client.admin(.get, "/admin/requests")
            #expect(log.body.arrayValue?.last?["status"] == 431, "\(log.text)")
        }
    }
}

