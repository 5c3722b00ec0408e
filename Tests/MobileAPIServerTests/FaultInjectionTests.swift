import Foundation
import HummingbirdTesting
import JSON
import Testing

@testable import MobileAPIServer

/// Fault injection: delays, error statuses with Retry-After, dropped connections, shares
/// and counts, switched at run time through the admin API and off by default.
@Suite("Fault injection")
struct FaultInjectionTests {
    @Test func offByDefaultAndReplacedAsAWhole() async throws {
        try await Harness().run { client in
            #expect(try await client.admin(.get, "/admin/faults").body == [])
            let put = try await client.admin(
                .put, "/admin/faults", json: [["method": "patch", "path": "/mobile/1/appinstance/*/user", "status": 503]])
            #expect(put.status == 200)
            #expect(put.body == [["method": "PATCH", "path": "/mobile/1/appinstance/*/user", "share": 1, "status": 503]])
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/mobile/**", "delayMs": 1]])
            #expect(try await client.admin(.get, "/admin/faults").body.arrayValue?.count == 1)
            #expect(try await client.admin(.delete, "/admin/faults").body == [])
            #expect(try await client.admin(.get, "/admin/faults").body == [])
        }
    }

    @Test func statusWithRetryAfter() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            _ = try await client.admin(
                .put, "/admin/faults",
                json: [["method": "PATCH", "path": "/mobile/1/appinstance/*/user", "status": 503, "retryAfter": 7]])
            let user = "/mobile/1/appinstance/\(pushRegId)/user"
            let faulted = try await client.send(.patch, user, auth: "App \(code)", json: ["firstName": "X"])
            #expect(faulted.status == 503)
            #expect(faulted.headers[.retryAfter] == "7")
            #expect(faulted.messageId == "FAULT_INJECTED")
            // The request was not served.
            #expect(try await client.send(.get, user, auth: "App \(code)").body["firstName"] == nil)
            // Other methods and paths are untouched.
            #expect(try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)", auth: "App \(code)").status == 200)
            // The admin API is never faulted, so faults can always be switched off.
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/**", "status": 500]])
            #expect(try await client.admin(.get, "/admin/faults").status == 200)
            // And the log shows what the client saw.
            let log = try await client.admin(.get, "/admin/requests")
            #expect(log.body.arrayValue?.contains { $0["status"] == 503 } == true)
        }
    }

    @Test func customMessageId() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await client.admin(
                .put, "/admin/faults", json: [["path": "/mobile/1/appinstance", "status": 429, "messageId": "TOO_MANY"]])
            let reply = try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:])
            #expect(reply.status == 429)
            #expect(reply.messageId == "TOO_MANY")
        }
    }

    @Test func delay() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/mobile/1/appinstance", "delayMs": 300]])
            let start = ContinuousClock.now
            let reply = try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:])
            let elapsed = ContinuousClock.now - start
            #expect(reply.status == 201)
            #expect(elapsed >= .milliseconds(300))
            let log = try await client.admin(.get, "/admin/requests")
            #expect((log.body.arrayValue?.last?["durationMs"]?.numberValue?.intValue ?? 0) >= 300)
        }
    }

    @Test func countLimitsTheFault() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/mobile/1/appinstance", "status": 500, "count": 2]])
            var statuses: [Int] = []
            for _ in 0..<4 {
                statuses.append(try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:]).status)
            }
            #expect(statuses == [500, 500, 201, 201])
            #expect(try await client.admin(.get, "/admin/faults").body.arrayValue?.first?["count"] == 0)
        }
    }

    @Test func shareIsAProbability() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let path = "/mobile/1/appinstance/\(pushRegId)"
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/mobile/1/appinstance/*", "status": 500, "share": 0]])
            for _ in 0..<20 { #expect(try await client.send(.get, path, auth: "App \(code)").status == 200) }
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/mobile/1/appinstance/*", "status": 500, "share": 0.5]])
            var faulted = 0
            for _ in 0..<200 where try await client.send(.get, path, auth: "App \(code)").status == 500 { faulted += 1 }
            // Binomial(200, 0.5): outside 60...140 has a probability below 1e-8.
            #expect((60...140).contains(faulted), "\(faulted) of 200")
        }
    }

    @Test func invalidRules() async throws {
        try await Harness().run { client in
            for body: JSONValue in [
                [:], [["status": 500]], [["path": "no-slash"]], [["path": "/x", "share": 2]], [["path": "/x", "status": 42]],
                [["path": "/x", "drop": "yes"]], [["path": "/x", "speed": 1]], ["path": "/x"],
            ] {
                let reply = try await client.admin(.put, "/admin/faults", json: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(body)")
            }
        }
    }

    @Test(arguments: [
        ("/mobile/1/appinstance/*/user", "/mobile/1/appinstance/abc/user", true),
        ("/mobile/1/appinstance/*/user", "/mobile/1/appinstance/a/b/user", false),
        ("/mobile/1/appinstance/*", "/mobile/1/appinstance/abc/user", false),
        ("/mobile/**", "/mobile/1/appinstance/abc/user", true),
        ("/mobile/1/appinstance/*/*", "/mobile/1/appinstance/abc/personalize", true),
        ("/mobile/1/appinstance", "/mobile/1/appinstance", true),
        ("/mobile/1/appinstance", "/mobile/1/appinstance/x", false),
    ])
    func glob(_ pattern: String, _ path: String, _ matches: Bool) {
        #expect(Glob.matches(pattern: Array(pattern.utf8)[...], Array(path.utf8)[...]) == matches)
    }

    /// A dropped connection can only be seen on a real socket.
    @Test func dropClosesTheConnectionWithoutAResponse() async throws {
        let harness = try Harness()
        let code = try await harness.run(.live) { client in try await client.createApplication() }
        try await harness.run(.live) { client in
            _ = try await client.admin(.put, "/admin/faults", json: [["path": "/mobile/1/appinstance", "drop": true, "count": 1]])
            await #expect(throws: (any Error).self) {
                _ = try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:])
            }
        }
        try await harness.run(.live) { client in
            // The rule's count is used up: the next request is served.
            #expect(try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", json: [:]).status == 201)
            let log = try await client.admin(.get, "/admin/requests")
            #expect(log.body.arrayValue?.map { $0["status"] } == [0, 201])
        }
    }
}
