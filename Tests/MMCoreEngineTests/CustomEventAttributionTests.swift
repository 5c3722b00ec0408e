import JSON
import MMCoreBridge
import Testing

@testable import MMCoreEngine

/// Events reach the server before a `personalize` or `depersonalize` written after them
/// takes effect there, so the server (which attributes an event to the installation's
/// person when it arrives) attributes them to the person they were submitted for.
@Suite struct CustomEventAttributionTests {
    static let never = Duration.seconds(600)

    func position(of summary: String, in api: FakeMobileAPI) -> Int? {
        api.requests.firstIndex { $0.summary == summary }
    }

    @Test func eventsGoOutBeforeThePersonChangesAndAfterItTheNextOnesGoToTheNewPerson() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(Self.never)

        _ = try await session.submitEvent(["definitionId": "anonymous-browse"])
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        _ = try await session.submitEvent(["definitionId": "ada-purchase"])
        #expect(try await session.depersonalize() == "success")
        _ = try await session.submitEvent(["definitionId": "anonymous-again"])

        #expect(endpoint.definitionIds == ["anonymous-browse", "ada-purchase"])
        #expect(endpoint.all.map(\.person) == [nil, "ada"])
        let personalize = try #require(position(of: "POST /mobile/1/appinstance/reg-1/personalize", in: harness.api))
        let depersonalize = try #require(position(of: "POST /mobile/1/appinstance/reg-1/depersonalize", in: harness.api))
        #expect(endpoint.all[0].position < personalize && personalize < endpoint.all[1].position && endpoint.all[1].position < depersonalize)
        #expect(harness.heldDefinitionIds == ["anonymous-again"], "the later one waits for its quiet period")
        await harness.cleanUp(session)
    }

    @Test func eventsSubmittedAfterAPersonalizeIsWrittenWaitForIt() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(1))
        // Written back to back without waiting: the event after personalize is admitted
        // while personalize is still on the lane, and must not overtake it.
        _ = try await session.submitEvent(["definitionId": "before"])
        let personalize = try Personalize(arguments: BridgeArguments(["context": ["userIdentity": ["externalUserId": "ada"]]]))
        let admitted = try await session.admitInOrder([personalize])
        _ = try await session.submitEvent(["definitionId": "after"])
        _ = try await admitted[0].value()
        #expect(await endpoint.wait(forEvents: 2))
        #expect(endpoint.definitionIds == ["before", "after"])
        #expect(endpoint.all.map(\.person) == [nil, "ada"])
        await harness.cleanUp(session)
    }

    @Test func aPersonalizeFailsWhenEarlierEventsCannotBeSentAndSendsNothing() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        await session.useEventTiming(Self.never)
        _ = try await session.submitEvent(["definitionId": "before"])
        endpoint.set(.network)
        let error = await caughtError { try await session.personalize(["userIdentity": ["externalUserId": "ada"]]) }
        #expect(error?.code == "NETWORK_ERROR")
        #expect(position(of: "POST /mobile/1/appinstance/reg-1/personalize", in: harness.api) == nil)
        #expect(harness.heldDefinitionIds == ["before"])
        await harness.cleanUp(session)
    }

    @Test func eventsAroundAPendingDepersonalizeKeepTheirSidesThroughTheRetry() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(20))
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])

        endpoint.set(.status(503, "SERVICE_UNAVAILABLE"))
        endpoint.depersonalizeFault.withLock { $0 = .status(503, "SERVICE_UNAVAILABLE") }
        _ = try await session.submitEvent(["definitionId": "ada-last"])
        #expect(try await session.depersonalize() == "pending")
        #expect(harness.eventsFile?["depersonalizeBoundaries"] == [1], "the boundary is on disk with the events")
        _ = try await session.submitEvent(["definitionId": "anonymous-first"])

        endpoint.set(nil)
        // The events in front may go while the depersonalize is still refused...
        #expect(await endpoint.wait(forEvents: 1))
        try await Task.sleep(for: .milliseconds(300))
        #expect(endpoint.definitionIds == ["ada-last"], "...but not those behind it")
        #expect(endpoint.all.map(\.person) == ["ada"])

        endpoint.depersonalizeFault.withLock { $0 = nil }
        #expect(await harness.events.wait(for: .depersonalized) != nil)
        #expect(await endpoint.wait(forEvents: 2))
        #expect(endpoint.definitionIds == ["ada-last", "anonymous-first"])
        #expect(endpoint.all.map(\.person) == ["ada", nil])
        #expect(await eventually { harness.eventsFile?["depersonalizeBoundaries"] == [] })
        await harness.cleanUp(session)
    }

    @Test func aPendingDepersonalizeStillSeparatesTheEventsAfterARestart() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let first = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        await first.useEventTiming(Self.never)
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        endpoint.set(.network)
        endpoint.depersonalizeFault.withLock { $0 = .network }
        _ = try await first.submitEvent(["definitionId": "ada-last"])
        #expect(try await first.depersonalize() == "pending")
        _ = try await first.submitEvent(["definitionId": "anonymous-first"])
        await first.shutdown()

        endpoint.set(nil)
        endpoint.depersonalizeFault.withLock { $0 = nil }
        let second = harness.makeSession(retryPolicy: SessionHarness.slowRetries)
        try await second.initialize(harness.configuration())
        #expect(await harness.events.wait(for: .depersonalized) != nil)
        #expect(await endpoint.wait(forEvents: 2))
        #expect(endpoint.definitionIds == ["ada-last", "anonymous-first"])
        #expect(endpoint.all.map(\.person) == ["ada", nil])
        await harness.cleanUp(second)
    }

    @Test func depersonalizeDoesNotDropHeldEvents() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(Self.never)
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        _ = try await session.submitEvent(["definitionId": "ada-1"])
        _ = try await session.submitEvent(["definitionId": "ada-2"])
        #expect(try await session.depersonalize() == "success")
        #expect(endpoint.definitionIds == ["ada-1", "ada-2"])
        #expect(endpoint.all.map(\.person) == ["ada"])
        await harness.cleanUp(session)
    }
}
