import JSON
import Testing

@testable import MMCoreEngine

@Suite struct SessionDepersonalizeTests {
    @Test func successForgetsTheUserAndEmitsDepersonalized() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        #expect(try await session.depersonalize() == "success")
        #expect(try await session.getUser() == .object([:]))
        let event = try #require(harness.events.named(.depersonalized).first)
        #expect(event.payload == .null)
        #expect(harness.api.requests.last?.summary == "POST /mobile/1/appinstance/reg-1/depersonalize")
        await harness.cleanUp(session)
    }

    @Test(arguments: ["network", "timeout", "503"])
    func unreachableServerMeansPendingThenDeliveredInTheBackground(failure: String) async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        let down = Locked(true)
        harness.api.setHook { request in
            guard down.current, request.path.hasSuffix("/depersonalize") else { return nil }
            switch failure {
            case "network": throw HTTPTransportError.network("connection refused")
            case "timeout": throw HTTPTransportError.timeout
            default: return FakeMobileAPI.error(503, "SERVICE_UNAVAILABLE", "Try later")
            }
        }
        #expect(try await session.depersonalize() == "pending")
        #expect(try await session.getUser() == .object([:]), "the user is forgotten at once")
        let pending = try #require(harness.stateFile?["pendingChanges"]?.arrayValue?.first)
        #expect(pending["kind"] == "depersonalize")
        #expect(pending["pushRegistrationId"] == "reg-1")
        #expect(harness.stateFile?["user"] == nil)
        #expect(harness.events.named(.depersonalized).isEmpty)

        down.withLock { $0 = false }
        let event = await harness.events.wait(for: .depersonalized)
        #expect(event?.payload == .null)
        #expect(harness.stateFile?["pendingChanges"] == [])
        #expect(harness.api.store.current.users["reg-1"] == nil, "the server got it")
        await harness.cleanUp(session)
    }

    @Test func aPendingDepersonalizeSurvivesARestart() async throws {
        let harness = SessionHarness()
        let first = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.failRequests(endingWith: "/depersonalize", with: HTTPTransportError.network("connection refused"))
        #expect(try await first.depersonalize() == "pending")
        await first.shutdown()

        harness.api.setHook(nil)
        let second = harness.makeSession(retryPolicy: SessionHarness.slowRetries)
        try await second.initialize(harness.configuration())
        #expect(await harness.events.wait(for: .depersonalized) != nil)
        #expect(harness.stateFile?["pendingChanges"] == [])
        await harness.cleanUp(second)
    }

    @Test func aPendingDepersonalizeGoesOutBeforeTheNextUserCall() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.failRequests(endingWith: "/depersonalize", with: HTTPTransportError.timeout)
        #expect(try await session.depersonalize() == "pending")

        // Still unreachable: the user call fails with the depersonalize's error, nothing else is sent.
        let before = harness.api.requestCount
        #expect(await caughtError { try await session.personalize(["userIdentity": ["externalUserId": "bob"]]) }?.code == "TIMEOUT")
        #expect(harness.api.requests(since: before).map(\.summary) == ["POST /mobile/1/appinstance/reg-1/depersonalize"])

        harness.api.setHook(nil)
        let user = try await session.personalize(["userIdentity": ["externalUserId": "bob"]])
        #expect(user["externalUserId"] == "bob")
        #expect(
            harness.api.requests(since: before + 1).map(\.summary) == [
                "POST /mobile/1/appinstance/reg-1/depersonalize", "POST /mobile/1/appinstance/reg-1/personalize",
            ])
        #expect(harness.events.named(.depersonalized).count == 1)
        await harness.cleanUp(session)
    }

    @Test func aSecondDepersonalizeWhilePendingDeliversTheSameRequest() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        harness.api.failRequests(endingWith: "/depersonalize", with: HTTPTransportError.timeout)
        #expect(try await session.depersonalize() == "pending")
        #expect(try await session.depersonalize() == "pending")
        #expect(harness.stateFile?["pendingChanges"]?.arrayValue?.count == 1)
        harness.api.setHook(nil)
        #expect(try await session.depersonalize() == "success")
        #expect(harness.stateFile?["pendingChanges"] == [])
        #expect(harness.events.named(.depersonalized).count == 1)
        await harness.cleanUp(session)
    }

    @Test func aRefusalOfTheQueuedRequestIsReportedByTheNextDepersonalize() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        harness.api.failRequests(endingWith: "/depersonalize", with: HTTPTransportError.network("connection refused"))
        #expect(try await session.depersonalize() == "pending")
        harness.api.setHook { request in
            request.path.hasSuffix("/depersonalize") ? FakeMobileAPI.error(404, "NO_REGISTRATION", "Installation not found") : nil
        }
        let error = await caughtError { try await session.depersonalize() }
        #expect(error?.code == "NO_REGISTRATION")
        #expect(error?.domain == "com.mobile-messaging.backend")
        #expect(harness.stateFile?["pendingChanges"] == [], "retrying cannot help: the entry is dropped")
        #expect(harness.events.named(.depersonalized).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func aClientErrorIsAnErrorNotPending() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        harness.api.setHook { request in
            request.path.hasSuffix("/depersonalize") ? FakeMobileAPI.error(400, "REQUEST_FORMAT_INVALID", "Invalid request") : nil
        }
        let error = await caughtError { try await session.depersonalize() }
        #expect(error?.code == "REQUEST_FORMAT_INVALID")
        #expect(error?.pending == false)
        #expect(harness.stateFile?["pendingChanges"] == [])
        await harness.cleanUp(session)
    }
}
