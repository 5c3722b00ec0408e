import JSON
import Testing

@testable import MMCoreEngine

/// The Mobile API's dynamic base URL (`docs/contract/mobile-api.md`, "Dynamic base URL"):
/// a `New-Base-URL` header moves every later request and survives a restart;
/// host-not-found falls back to the configured URL; with the production URL only,
/// `GET /mobile/1/baseurl` once a day.
@Suite struct DynamicBaseURLTests {
    static let moved = "https://moved.test"

    /// Answers like the fake, adding `New-Base-URL: moved` to every answer of the configured host.
    static func steer(_ api: FakeMobileAPI, to url: String = moved) {
        api.setHook { request in
            guard request.base == FakeMobileAPI.baseURL, request.method == "PATCH" else { return nil }
            var response = FakeMobileAPI.json(200, [:])
            response.headers.append(("New-Base-URL", url))
            return response
        }
    }

    @Test func aNewBaseURLHeaderMovesLaterRequestsAndSurvivesARestart() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        Self.steer(harness.api)
        _ = try await session.saveUser(["firstName": "Ada"])  // answered with New-Base-URL
        harness.api.setHook(nil)
        let before = harness.api.requestCount
        _ = try await session.fetchUser()
        #expect(harness.api.requests(since: before).map(\.base) == [Self.moved])
        #expect(harness.stateFile?["baseURL"]?["dynamic"] == .string(Self.moved))
        await session.shutdown()

        let restarted = harness.makeSession()
        try await restarted.initialize(harness.configuration())
        let again = harness.api.requestCount
        _ = try await restarted.fetchInstallation()
        #expect(harness.api.requests(since: again).map(\.base) == [Self.moved])
        await harness.cleanUp(restarted)
    }

    @Test(arguments: ["http://moved.test", "https://user:secret@moved.test", "not a url", ""])
    func aNewBaseURLThatBreaksTheRulesIsIgnored(header: String) async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        Self.steer(harness.api, to: header)
        _ = try await session.saveUser(["firstName": "Ada"])
        harness.api.setHook(nil)
        let before = harness.api.requestCount
        _ = try await session.fetchUser()
        #expect(harness.api.requests(since: before).map(\.base) == [FakeMobileAPI.baseURL])
        #expect(harness.stateFile?["baseURL"] == nil)
        await harness.cleanUp(session)
    }

    @Test func hostNotFoundOnTheDynamicURLFallsBackToTheConfiguredOne() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        Self.steer(harness.api)
        _ = try await session.saveUser(["firstName": "Ada"])
        harness.api.setHook { request in
            guard request.base == Self.moved else { return nil }
            throw HTTPTransportError.hostNotFound("moved.test")
        }
        let failed = await caughtError { try await session.fetchUser() }
        #expect(failed?.code == "NETWORK_ERROR", "the failed call answers its own error")
        let before = harness.api.requestCount
        _ = try await session.fetchUser()
        #expect(harness.api.requests(since: before).map(\.base) == [FakeMobileAPI.baseURL])
        #expect(harness.stateFile?["baseURL"]?["dynamic"] == nil)
        await harness.cleanUp(session)
    }

    @Test func withTheProductionURLTheServiceIsAskedOnceADay() async throws {
        let harness = SessionHarness()
        harness.api.setHook { request in
            guard request.path == "/mobile/1/baseurl" else { return nil }
            #expect(request.base == Configuration.defaultBackendBaseURL)
            #expect(request.authorization == "App app-1")
            return FakeMobileAPI.json(200, ["baseUrl": .string(Self.moved)])
        }
        let production = harness.configuration(["backendBaseURL": .string(Configuration.defaultBackendBaseURL)])
        let session = harness.makeSession()
        try await session.initialize(production)
        _ = await harness.events.wait(for: .registrationUpdated)
        _ = try await session.fetchInstallation()
        let asked = harness.api.requests.filter { $0.path == "/mobile/1/baseurl" }
        #expect(asked.count == 1)
        #expect(harness.api.requests.last?.base == Self.moved, "later requests go where the service said")
        #expect(harness.stateFile?["baseURL"]?["checkedAt"] == .number(JSONNumber(TokenFactory.now)))
        await session.shutdown()

        // Within the day: not asked again.
        let again = harness.makeSession()
        try await again.initialize(production)
        _ = try await again.fetchInstallation()
        #expect(harness.api.requests.filter { $0.path == "/mobile/1/baseurl" }.count == 1)
        await again.shutdown()

        // A day later: asked again.
        harness.clock.advance(BaseURLRoute.checkInterval)
        let dayLater = harness.makeSession()
        try await dayLater.initialize(production)
        _ = try await dayLater.fetchInstallation()
        #expect(harness.api.requests.filter { $0.path == "/mobile/1/baseurl" }.count == 2)
        await harness.cleanUp(dayLater)
    }

    @Test func withAnotherURLTheServiceIsNotAskedAndCleanupForgetsTheRoute() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        #expect(!harness.api.requests.contains { $0.path == "/mobile/1/baseurl" })
        Self.steer(harness.api)
        _ = try await session.saveUser(["firstName": "Ada"])
        harness.api.setHook(nil)
        try await session.cleanup()
        #expect(harness.stateFile?["baseURL"] == nil)
        try await session.initialize(harness.configuration())
        _ = await harness.events.wait(for: .registrationUpdated, count: 2)
        #expect(harness.api.requests.last?.base == FakeMobileAPI.baseURL)
        await harness.cleanUp(session)
    }

    @Test func aRouteLearnedUnderAnotherConfiguredURLIsNotUsed() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        Self.steer(harness.api)
        _ = try await session.saveUser(["firstName": "Ada"])
        harness.api.setHook(nil)
        await session.shutdown()
        let other = harness.makeSession()
        try await other.initialize(harness.configuration(["backendBaseURL": "https://other.test"]))
        let before = harness.api.requestCount
        _ = try await other.fetchInstallation()
        #expect(harness.api.requests(since: before).map(\.base) == ["https://other.test"])
        await harness.cleanUp(other)
    }
}
