import JSON
import Testing

@testable import MMCoreEngine

/// A switchable fault on the fake Mobile API: while `failure` is set, requests whose
/// path matches fail that way (and are still recorded).
final class FaultSwitch: Sendable {
    enum Failure: String, Sendable, CaseIterable {
        case network, timeout, http500, http503, http429
    }

    let failure = Locked<Failure?>(nil)
    let retryAfter = Locked<Int?>(nil)
    /// When each faulted request arrived, for Retry-After checks.
    let hits = Locked<[ContinuousClock.Instant]>([])

    func install(on api: FakeMobileAPI, matching: @escaping @Sendable (RecordedRequest) -> Bool) {
        api.setHook { [self] request in
            guard matching(request), let failure = self.failure.current else { return nil }
            self.hits.withLock { $0.append(.now) }
            switch failure {
            case .network: throw HTTPTransportError.network("connection refused")
            case .timeout: throw HTTPTransportError.timeout
            case .http500: return FakeMobileAPI.error(500, "INTERNAL_ERROR", "Boom")
            case .http503: return Self.withRetryAfter(FakeMobileAPI.error(503, "SERVICE_UNAVAILABLE", "Try later"), self.retryAfter.current)
            case .http429: return Self.withRetryAfter(FakeMobileAPI.error(429, "TOO_MANY_REQUESTS", "Slow down"), self.retryAfter.current)
            }
        }
    }

    func set(_ failure: Failure?) { self.failure.withLock { $0 = failure } }

    /// The common case: user PATCHes to `api` fail with `failure` until ``set(_:)`` changes it.
    /// The fake keeps the switch alive, so a test that never changes it may drop the result.
    @discardableResult
    static func onUserPatches(of api: FakeMobileAPI, failing failure: Failure?) -> FaultSwitch {
        let fault = FaultSwitch()
        fault.install(on: api) { $0.isUserPatch }
        fault.set(failure)
        return fault
    }

    static func withRetryAfter(_ response: HTTPResponse, _ seconds: Int?) -> HTTPResponse {
        var response = response
        if let seconds { response.headers.append(("Retry-After", String(seconds))) }
        return response
    }

    static func expectedCode(_ failure: Failure) -> String {
        switch failure {
        case .network: "NETWORK_ERROR"
        case .timeout: "TIMEOUT"
        case .http500: "INTERNAL_ERROR"
        case .http503: "SERVICE_UNAVAILABLE"
        case .http429: "TOO_MANY_REQUESTS"
        }
    }
}

extension RecordedRequest {
    var isUserPatch: Bool { method == "PATCH" && path.hasSuffix("/user") }
    var isInstallationPatch: Bool { method == "PATCH" && path == "/mobile/1/appinstance/reg-1" }
}

@Suite struct SyncDeliveryTests {
    func pendingChanges(_ harness: SessionHarness) -> [JSONValue] {
        harness.stateFile?["pendingChanges"]?.arrayValue ?? []
    }

    @Test(arguments: FaultSwitch.Failure.allCases)
    func anUnsentSaveUserIsKeptBeforeTheAnswerThenDeliveredWithUserUpdated(failure: FaultSwitch.Failure) async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: failure)

        let error = await caughtError { try await session.saveUser(["firstName": "Ada"]) }
        #expect(error?.code == FaultSwitch.expectedCode(failure))
        #expect(error?.pending == true)
        #expect(error?.data["pending"] == true)
        // On disk when the answer came back.
        let queued = try #require(pendingChanges(harness).first)
        #expect(queued["kind"] == "saveUser")
        #expect(queued["body"] == ["firstName": "Ada"])
        #expect(harness.events.named(.userUpdated).isEmpty)

        fault.set(nil)
        let event = await harness.events.wait(for: .userUpdated)
        #expect(event?.payload["firstName"] == "Ada")
        #expect(pendingChanges(harness).isEmpty)
        #expect(harness.api.store.current.users["reg-1"]?["firstName"] == "Ada", "the server got it")
        await harness.cleanUp(session)
    }

    @Test func changesToTheSameInstallationMergeLastWriteWins() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: .network)

        for change: JSONValue in [
            ["firstName": "A", "customAttributes": ["x": 1]], ["lastName": "B"], ["firstName": "C", "customAttributes": ["y": 2]],
        ] {
            #expect(await caughtError { try await session.saveUser(change) }?.pending == true)
        }
        let queued = pendingChanges(harness)
        #expect(queued.count == 1, "merged, not piled up: \(queued)")
        #expect(queued.first?["body"] == ["firstName": "C", "lastName": "B", "customAttributes": ["x": 1, "y": 2]])

        fault.set(nil)
        let before = harness.api.requestCount
        let user = try await session.saveUser(["gender": "Female"])
        #expect(user["firstName"] == "C" && user["lastName"] == "B" && user["gender"] == "Female")
        let patches = harness.api.requests(since: before).filter(\.isUserPatch)
        #expect(patches.count == 2, "the merged change once, then the new one")
        #expect(patches.first?.body == ["firstName": "C", "lastName": "B", "customAttributes": ["x": 1, "y": 2]])
        #expect(pendingChanges(harness).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func aQueuedChangeGoesOutBeforeANewerOneSoTheNewerWins() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: .timeout)
        #expect(await caughtError { try await session.saveUser(["firstName": "Old"]) }?.pending == true)
        fault.set(nil)
        _ = try await session.saveUser(["firstName": "New"])
        #expect(harness.api.store.current.users["reg-1"]?["firstName"] == "New")
        #expect(harness.api.requests.filter(\.isUserPatch).compactMap { $0.body?["firstName"]?.stringValue } == ["Old", "Old", "New"])
        await harness.cleanUp(session)
    }

    @Test func anUnsentSaveInstallationIsKeptAndDeliveredWithInstallationUpdated() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let fault = FaultSwitch()
        fault.install(on: harness.api) { $0.isInstallationPatch }
        fault.set(.http503)
        let error = await caughtError { try await session.saveInstallation(["deviceName": "Phone", "customAttributes": ["a": 1]]) }
        #expect(error?.code == "SERVICE_UNAVAILABLE" && error?.pending == true)
        #expect(await caughtError { try await session.saveInstallation(["deviceName": "Tablet"]) }?.pending == true)
        #expect(pendingChanges(harness).count == 1)
        fault.set(nil)
        let event = await harness.events.wait(for: .installationUpdated)
        #expect(event?.payload["deviceName"] == "Tablet")
        #expect(harness.api.store.current.installations["reg-1"]?["deviceName"] == "Tablet")
        #expect(harness.api.store.current.installations["reg-1"]?["customAttributes"] == ["a": 1])
        #expect(pendingChanges(harness).isEmpty)
        await harness.cleanUp(session)
    }

    @Test(arguments: [400, 404, 409])
    func aRefusalIsAnErrorAndNotQueued(status: Int) async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        harness.api.setHook { request in
            request.isUserPatch ? FakeMobileAPI.error(status, "EMAIL_INVALID", "Bad email") : nil
        }
        let error = await caughtError { try await session.saveUser(["emails": ["nope"]]) }
        #expect(error?.code == "EMAIL_INVALID")
        #expect(error?.pending == false)
        #expect(pendingChanges(harness).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func retryAfterIsHonoured() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()  // 20 ms backoff: only Retry-After can hold it
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: .http429)
        fault.retryAfter.withLock { $0 = 3 }
        // Time stands still for the Retry-After window until the test moves it on, so the
        // checks below hold however slow the machine is.
        harness.monotonic.pause()
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        // A second call within the Retry-After window sends nothing and is queued too.
        let before = harness.api.requestCount
        #expect(await caughtError { try await session.saveUser(["lastName": "L"]) }?.code == "TOO_MANY_REQUESTS")
        #expect(harness.api.requests(since: before).filter(\.isUserPatch).isEmpty)
        fault.set(nil)
        // The background retry comes when its timer runs out, and finds the window still open.
        try await Task.sleep(for: .milliseconds(3500))
        #expect(harness.api.requests.filter(\.isUserPatch).count == 1, "nothing was sent inside the window")
        #expect(harness.events.named(.userUpdated).isEmpty)

        harness.monotonic.advance(by: .seconds(3))
        #expect(await harness.events.wait(for: .userUpdated, timeout: .seconds(30)) != nil)
        let patches = harness.api.requests.filter(\.isUserPatch)
        #expect(patches.count == 2, "one refused, then the merged change after Retry-After")
        #expect(harness.api.store.current.users["reg-1"]?["lastName"] == "L")
        #expect(harness.api.store.current.users["reg-1"]?["firstName"] == "Ada")
        await harness.cleanUp(session)
    }

    @Test func backoffGrowsBetweenBackgroundAttempts() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: RetryPolicy(initialDelay: .milliseconds(40), maximumDelay: .seconds(1)))
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: .http500)
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        let start = ContinuousClock.now
        while fault.hits.current.count < 2, ContinuousClock.now - start < .seconds(30) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fault.hits.current.count >= 2, "retried in the background")
        try await Task.sleep(for: .milliseconds(700))
        let hits = fault.hits.current.count
        // Without backoff (a retry every 40 ms) there would be ~20 by now; with full jitter
        // doubling up to 1 s, far fewer.
        #expect(hits <= 12, "\(hits) attempts")
        fault.set(nil)
        #expect(await harness.events.wait(for: .userUpdated, timeout: .seconds(30)) != nil)
        await harness.cleanUp(session)
    }

    @Test func pendingWorkSurvivesARestartAndResumesAtInit() async throws {
        let harness = SessionHarness()
        let first = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        let fault = FaultSwitch()
        fault.install(on: harness.api) { $0.isUserPatch || $0.isInstallationPatch }
        fault.set(.network)
        #expect(await caughtError { try await first.saveUser(["firstName": "Ada"]) }?.pending == true)
        #expect(await caughtError { try await first.saveInstallation(["deviceName": "Phone"]) }?.pending == true)
        await first.shutdown()

        fault.set(nil)
        let second = harness.makeSession(retryPolicy: SessionHarness.slowRetries)
        try await second.initialize(harness.configuration())
        #expect(await harness.events.wait(for: .userUpdated) != nil)
        #expect(await harness.events.wait(for: .installationUpdated) != nil)
        #expect(pendingChanges(harness).isEmpty)
        #expect(harness.api.requests.filter(\.isUserPatch).count == 2, "once refused, once delivered")
        #expect(harness.api.store.current.users["reg-1"]?["firstName"] == "Ada")
        await harness.cleanUp(second)
    }

    @Test func aDepersonalizeQueuedAfterAUserChangeGoesAfterIt() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        let fault = FaultSwitch()
        fault.install(on: harness.api) { $0.isUserPatch || $0.path.hasSuffix("/depersonalize") }
        fault.set(.network)
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        #expect(try await session.depersonalize() == "pending")
        #expect(await caughtError { try await session.saveUser(["firstName": "Bob"]) }?.pending == true)
        #expect(pendingChanges(harness).map { $0["kind"]?.stringValue ?? "" } == ["saveUser", "depersonalize", "saveUser"])
        fault.set(nil)
        _ = try await session.fetchUser()
        let order = harness.api.requests.filter { $0.isUserPatch || $0.path.hasSuffix("/depersonalize") }.suffix(3)
        #expect(order.map { $0.body?["firstName"]?.stringValue ?? $0.summary } == ["Ada", "POST /mobile/1/appinstance/reg-1/depersonalize", "Bob"])
        #expect(harness.events.named(.depersonalized).count == 1)
        await harness.cleanUp(session)
    }

    @Test func withUserDataPersistingDisabledQueuedUserChangesStayInMemory() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(["privacySettings": ["userDataPersistingDisabled": true]])
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: .network)
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        #expect(pendingChanges(harness).isEmpty, "no user data on disk")
        fault.set(nil)
        #expect(await harness.events.wait(for: .userUpdated) != nil, "still retried within the session")
        #expect(harness.api.store.current.users["reg-1"]?["firstName"] == "Ada")
        await harness.cleanUp(session)
    }
}
