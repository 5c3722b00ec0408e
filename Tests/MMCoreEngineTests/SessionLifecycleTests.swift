import JSON
import Testing

@testable import MMCoreEngine

@Suite struct SessionLifecycleTests {
    @Test(arguments: [
        "setUserDataJwt", "saveUser", "fetchUser", "getUser", "personalize", "depersonalize", "saveInstallation",
        "fetchInstallation", "getInstallation", "setInstallationAsPrimary", "depersonalizeInstallation", "cleanup",
    ])
    func everyCallBeforeInitIsNotInitialized(method: String) async throws {
        let harness = SessionHarness()
        let session = harness.makeSession()
        let error = await caughtError { () async throws -> JSONValue in
            switch method {
            case "setUserDataJwt": try await session.setUserDataJwt("a.b.c")
            case "saveUser": return try await session.saveUser(["firstName": "Ada"])
            case "fetchUser": return try await session.fetchUser()
            case "getUser": return try await session.getUser()
            case "personalize": return try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
            case "depersonalize": return try await session.depersonalize()
            case "saveInstallation": return try await session.saveInstallation([:])
            case "fetchInstallation": return try await session.fetchInstallation()
            case "getInstallation": return try await session.getInstallation()
            case "setInstallationAsPrimary": return try await session.setInstallationAsPrimary(pushRegistrationId: "x", primary: true)
            case "depersonalizeInstallation": return try await session.depersonalizeInstallation(pushRegistrationId: "x")
            case "cleanup": try await session.cleanup()
            default: Issue.record("unknown method \(method)")
            }
            return .null
        }
        #expect(error?.code == "NOT_INITIALIZED")
        #expect(error?.numericCode == 1001)
        #expect(error?.domain == "com.mobile-messaging")
        #expect(harness.api.requestCount == 0)
        await harness.cleanUp(session)
    }

    @Test func initAnswersBeforeTheRegistrationWhichEmitsRegistrationUpdated() async throws {
        let harness = SessionHarness()
        let gate = Locked(false)
        harness.api.setHook { request in
            while !gate.current { try await Task.sleep(for: .milliseconds(5)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        // init has answered while the registration is still held by the server.
        #expect(try await session.getInstallation() == .object([:]))
        #expect(harness.events.named(.registrationUpdated).isEmpty)

        gate.withLock { $0 = true }
        let event = try #require(await harness.events.wait(for: .registrationUpdated))
        #expect(event.payload == "reg-1")
        #expect(event.json == ["eventName": "registrationUpdated", "payload": "reg-1"])
        #expect(try await session.getInstallation()["pushRegistrationId"] == "reg-1")
        #expect(harness.api.requests.map(\.summary) == ["POST /mobile/1/appinstance"])
        #expect(harness.api.requests[0].authorization == "App app-1")
        #expect(harness.stateFile?["installation"]?["pushRegId"] == "reg-1")
        await harness.cleanUp(session)
    }

    @Test func callsMadeDuringTheRegistrationWaitForIt() async throws {
        let harness = SessionHarness()
        harness.api.setHook { request in
            if request.path == "/mobile/1/appinstance" { try await Task.sleep(for: .milliseconds(200)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        let installation = try await session.fetchInstallation()
        #expect(installation["pushRegistrationId"] == "reg-1")
        #expect(harness.api.requests.map(\.summary) == ["POST /mobile/1/appinstance", "GET /mobile/1/appinstance/reg-1"])
        await harness.cleanUp(session)
    }

    @Test func theWaitIsBoundedByTheRequestTimeout() async throws {
        let harness = SessionHarness()
        harness.api.setHook { request in
            // Far longer than the bound: a wait that is not bounded shows as a 60 s test.
            if request.path == "/mobile/1/appinstance" { try await Task.sleep(for: .seconds(60)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration(["requestTimeoutSeconds": 0.2]))
        let started = ContinuousClock.now
        let error = await caughtError { try await session.fetchUser() }
        #expect(error?.code == "NO_REGISTRATION")
        #expect(error?.numericCode == 1003)
        #expect(error?.description == "This installation is not registered yet: the registration did not finish within 0.2 seconds.")
        // Generous: a loaded CI machine can be seconds late, never the hook's 60 s.
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(harness.api.requests.map(\.summary) == ["POST /mobile/1/appinstance"])
        await harness.cleanUp(session)
    }

    @Test func waitingCallsGetTheRegistrationsError() async throws {
        let harness = SessionHarness()
        harness.api.setHook { request in
            if request.path == "/mobile/1/appinstance" { try await Task.sleep(for: .milliseconds(100)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration(applicationCode: "wrong"))
        let error = await caughtError { try await session.saveInstallation(["language": "hr"]) }
        #expect(error?.code == "INVALID_APPLICATION_CODE")
        #expect(error?.domain == "com.mobile-messaging.backend")
        #expect(error?.httpStatus == 401)
        #expect(harness.api.requestCount == 1, "the call waited for the running registration")
        #expect(harness.events.named(.registrationUpdated).isEmpty)
        // A non-transient failure is not retried in the background, only when a call needs it.
        try await Task.sleep(for: .milliseconds(150))
        #expect(harness.api.requestCount == 1)
        _ = await caughtError { try await session.fetchInstallation() }
        #expect(harness.api.requests.map(\.summary) == Array(repeating: "POST /mobile/1/appinstance", count: 2))
        await harness.cleanUp(session)
    }

    @Test func aTransientRegistrationFailureIsRetriedInTheBackground() async throws {
        let harness = SessionHarness()
        let failures = Locked(0)
        harness.api.setHook { request in
            guard request.path == "/mobile/1/appinstance" else { return nil }
            let count = failures.withLock { value -> Int in
                value += 1
                return value
            }
            return count <= 2 ? HTTPResponse(status: 503, body: Array("<html>down</html>".utf8)) : nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        let event = await harness.events.wait(for: .registrationUpdated, timeout: .seconds(30))
        #expect(event?.payload == "reg-1")
        #expect(harness.api.requests.map(\.summary) == Array(repeating: "POST /mobile/1/appinstance", count: 3))
        await harness.cleanUp(session)
    }

    @Test func aRestartWithTheSameApplicationCodeKeepsTheState() async throws {
        let harness = SessionHarness()
        let first = try await harness.registeredSession()
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        await first.shutdown()

        let second = harness.makeSession()
        try await second.initialize(harness.configuration())
        #expect(try await second.getInstallation()["pushRegistrationId"] == "reg-1")
        #expect(try await second.getUser()["externalUserId"] == "ada")
        try await Task.sleep(for: .milliseconds(50))
        #expect(harness.api.requests.filter { $0.path == "/mobile/1/appinstance" }.count == 1, "no second registration")
        await harness.cleanUp(second)
    }

    @Test func aNewApplicationCodeWipesTheOldState() async throws {
        let harness = SessionHarness()
        let first = try await harness.registeredSession()
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        await first.shutdown()

        harness.api.store.withLock { $0.applicationCode = "app-2" }
        let second = harness.makeSession()
        try await second.initialize(harness.configuration(applicationCode: "app-2"))
        #expect(try await second.getInstallation() == .object([:]))
        #expect(try await second.getUser() == .object([:]))
        #expect(harness.stateFile?["applicationCode"] == "app-2")
        #expect(harness.stateFile?["installation"] == nil)
        let event = await harness.events.wait(for: .registrationUpdated, count: 2)
        #expect(event?.payload == "reg-2")
        #expect(harness.api.requests.last?.authorization == "App app-2")
        await harness.cleanUp(second)
    }

    @Test func aNewApplicationCodeInTheSameProcessWipesToo() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.applicationCode = "app-2" }
        try await session.initialize(harness.configuration(applicationCode: "app-2"))
        #expect(try await session.getInstallation() == .object([:]))
        #expect(await harness.events.wait(for: .registrationUpdated, count: 2)?.payload == "reg-2")
        await harness.cleanUp(session)
    }

    @Test func aSecondSessionOnTheSameDirectoryIsStateLocked() async throws {
        let harness = SessionHarness()
        let first = harness.makeSession()
        try await first.initialize(harness.configuration())
        let second = harness.makeSession()
        let error = await caughtError { try await second.initialize(harness.configuration()) }
        #expect(error?.code == "STATE_LOCKED")
        #expect(error?.numericCode == 1401)
        // Still uninitialized, so every call says so.
        #expect(await caughtError { try await second.getUser() }?.code == "NOT_INITIALIZED")
        await harness.cleanUp(first, second)
    }

    @Test func aCorruptStateFileIsReportedOnceThenInitStartsClean() async throws {
        let harness = SessionHarness()
        runShell("mkdir -p '\(harness.directory.stateDirectory)'")
        writeFile(harness.statePath, "{\"formatVersion\": 1, \"installation\": ")
        let session = harness.makeSession()
        let error = await caughtError { try await session.initialize(harness.configuration()) }
        #expect(error?.code == "STATE_CORRUPTED")
        #expect(error?.numericCode == 1402)
        #expect(error?.description.contains(harness.statePath + ".corrupt-\(Int(TokenFactory.now))") == true)
        #expect(harness.api.requestCount == 0)
        #expect(await caughtError { try await session.getUser() }?.code == "NOT_INITIALIZED")

        try await session.initialize(harness.configuration())
        #expect(await harness.events.wait(for: .registrationUpdated) != nil)
        await harness.cleanUp(session)
    }

    @Test func invalidConfigurationLeavesTheSessionUninitialized() async throws {
        let harness = SessionHarness()
        let session = harness.makeSession()
        let error = await caughtError { try await session.initialize(["applicationCode": ""]) }
        #expect(error?.code == "INVALID_CONFIGURATION")
        #expect(await caughtError { try await session.getUser() }?.code == "NOT_INITIALIZED")
        #expect(harness.api.requestCount == 0)
        await harness.cleanUp(session)
    }

    @Test func cleanupForgetsInstallationUserTokenAndPendingWork() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        try await session.setUserDataJwt(.string(TokenFactory.token()))
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.setHook { _ in throw HTTPTransportError.network("connection refused") }
        #expect(try await session.depersonalize() == "pending")
        #expect(harness.stateFile?["pendingChanges"]?.arrayValue?.count == 1)

        try await session.cleanup()
        let file = try #require(harness.stateFile)
        #expect(file == ["formatVersion": 1, "applicationCode": "app-1", "pendingChanges": []])
        // The session is stopped until the next init, and nothing is sent meanwhile.
        harness.api.setHook(nil)
        let stopped = harness.api.requestCount
        #expect(await caughtError { try await session.getUser() }?.code == "NOT_INITIALIZED")
        #expect(await caughtError { try await session.saveUser(["firstName": "x"]) }?.code == "NOT_INITIALIZED")
        #expect(harness.api.requestCount == stopped)

        // The token is gone too: after init, the next user call registers anew and goes out with App.
        let before = harness.api.requestCount
        try await session.initialize(harness.configuration())
        #expect(try await session.getUser() == .object([:]))
        _ = try await session.fetchUser()
        let sent = harness.api.requests(since: before)
        #expect(sent.map(\.summary) == ["POST /mobile/1/appinstance", "GET /mobile/1/appinstance/reg-2/user"])
        #expect(sent.allSatisfy { $0.authorization == "App app-1" })
        #expect(harness.events.named(.depersonalized).isEmpty, "the pending depersonalize was dropped, not delivered")
        await harness.cleanUp(session)
    }
}
