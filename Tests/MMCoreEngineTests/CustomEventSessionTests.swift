import JSON
import Testing

@testable import MMCoreEngine

/// `submitEvent` and `submitEventImmediately` against the fake Mobile API: kept on disk
/// before the answer, batched after a quiet period, once registered, after a backoff;
/// bounded; dropped on a permanent refusal and on `cleanup`.
@Suite struct CustomEventSessionTests {
    /// So long that only the core's own reasons (a person change, a restart) send events.
    static let never = Duration.seconds(600)

    static let stamped = "2027-01-15T08:00:00Z"  // TokenFactory.now

    @Test func anEventIsOnDiskBeforeTheAnswerThenSentInOneBatchAfterTheQuietPeriod() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(300))
        #expect(try await session.submitEvent(["definitionId": "purchase", "properties": ["item": "book"]]) == .null)
        #expect(harness.heldDefinitionIds == ["purchase"], "written before the answer")
        #expect(fileMode(harness.eventsPath) == 0o600)
        #expect(endpoint.all.isEmpty, "nothing is sent during the quiet period")
        _ = try await session.submitEvent(["definitionId": "review"])

        #expect(await endpoint.wait(forEvents: 2))
        #expect(endpoint.all.count == 1, "one batch")
        let arrival = try #require(endpoint.all.first)
        #expect(arrival.validate == "false")
        #expect(arrival.authorization == "App app-1")
        #expect(
            arrival.events == [
                ["definitionId": "purchase", "date": .string(Self.stamped), "properties": ["item": "book"]],
                ["definitionId": "review", "date": .string(Self.stamped)],
            ])
        #expect(await eventually { harness.heldDefinitionIds.isEmpty })
        try await Task.sleep(for: .milliseconds(400))
        #expect(endpoint.events.count == 2, "each event is sent once")
        await harness.cleanUp(session)
    }

    @Test func eventsSubmittedBeforeTheRegistrationAreSentOnceItCompletes() async throws {
        let harness = SessionHarness()
        let registrationDown = Locked(true)
        let endpoint = FakeEventsEndpoint()
        harness.api.setHook { request in
            if request.method == "POST" && request.path == "/mobile/1/appinstance" && registrationDown.current {
                throw HTTPTransportError.network("connection refused")
            }
            guard FakeEventsEndpoint.isEventRequest(request) else { return nil }
            endpoint.arrivals.withLock {
                $0.append(.init(events: request.body?["events"]?.arrayValue ?? [], validate: nil, person: nil, authorization: nil, position: 0))
            }
            return HTTPResponse(status: 200)
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        await session.useEventTiming(.milliseconds(20))
        #expect(try await session.submitEvent(["definitionId": "opened"]) == .null)
        try await Task.sleep(for: .milliseconds(200))
        #expect(endpoint.all.isEmpty)
        #expect(harness.heldDefinitionIds == ["opened"], "kept, not dropped as iOS does")

        registrationDown.withLock { $0 = false }
        #expect(await harness.events.wait(for: .registrationUpdated) != nil)
        #expect(await endpoint.wait(forEvents: 1))
        #expect(endpoint.definitionIds == ["opened"])
        await harness.cleanUp(session)
    }

    @Test(arguments: [FakeEventsEndpoint.Fault.network, .status(500, "INTERNAL_ERROR"), .status(503, "SERVICE_UNAVAILABLE"), .status(429, "TOO_MANY_REQUESTS")])
    func aTransientFailureKeepsTheBatchForARetryAfterABackoff(fault: FakeEventsEndpoint.Fault) async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(20))
        endpoint.set(fault)
        _ = try await session.submitEvent(["definitionId": "a"])
        #expect(await eventually { harness.api.requests.filter(FakeEventsEndpoint.isEventRequest).count >= 2 }, "retried")
        #expect(harness.heldDefinitionIds == ["a"], "still held")
        endpoint.set(nil)
        #expect(await endpoint.wait(forEvents: 1))
        #expect(await eventually { harness.heldDefinitionIds.isEmpty })
        #expect(endpoint.definitionIds == ["a"])
        #expect(harness.events.named(.customEventsDropped).isEmpty)
        await harness.cleanUp(session)
    }

    @Test(arguments: [(400, "REQUEST_FORMAT_INVALID"), (404, "NO_REGISTRATION"), (413, "PAYLOAD_TOO_LARGE")])
    func aBatchRefusedForGoodIsDroppedWithAnEvent(status: Int, messageId: String) async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(50))
        endpoint.set(.status(status, messageId))
        _ = try await session.submitEvent(["definitionId": "a"])
        _ = try await session.submitEvent(["definitionId": "b"])
        let dropped = try #require(await harness.events.wait(for: .customEventsDropped))
        #expect(dropped.payload["count"] == 2)
        #expect(dropped.payload["reason"]?["code"] == .string(messageId))
        #expect(dropped.payload["reason"]?["httpStatus"] == .number(JSONNumber(status)))
        #expect(harness.heldDefinitionIds.isEmpty)
        let attempts = harness.api.requests.filter(FakeEventsEndpoint.isEventRequest).count
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.api.requests.filter(FakeEventsEndpoint.isEventRequest).count == attempts, "not retried")
        await harness.cleanUp(session)
    }

    @Test func retryAfterIsHonoured() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(10))
        endpoint.set(.retryAfter(1))
        let start = ContinuousClock.now
        _ = try await session.submitEvent(["definitionId": "a"])
        #expect(await eventually { harness.api.requests.contains(where: FakeEventsEndpoint.isEventRequest) })
        endpoint.set(nil)
        #expect(await endpoint.wait(forEvents: 1))
        #expect(ContinuousClock.now - start >= .seconds(1))
        await harness.cleanUp(session)
    }

    @Test func theCapRefusesTheNextEventAndDropsNothingHeld() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(Self.never)
        // 60 KiB each: the 1 MiB cap is reached at the 18th.
        let big: JSONValue = .string(String(repeating: "x", count: 60 << 10))
        var accepted = 0
        var refusal: MobileMessagingError?
        while refusal == nil && accepted < 100 {
            refusal = await caughtError { try await session.submitEvent(["definitionId": .string("e\(accepted)"), "properties": ["text": big]]) }
            if refusal == nil { accepted += 1 }
        }
        #expect(accepted == 17)
        #expect(refusal?.code == "CUSTOM_EVENTS_LIMIT_REACHED")
        #expect(refusal?.numericCode == 1501)
        #expect(harness.heldDefinitionIds.count == 17, "nothing accepted was dropped")

        // Once delivered (here by a restart, which sends at once), events are accepted again.
        await session.shutdown()
        let second = harness.makeSession()
        try await second.initialize(harness.configuration())
        #expect(await endpoint.wait(forEvents: 17))
        #expect(endpoint.definitionIds == (0..<17).map { "e\($0)" })
        #expect(try await second.submitEvent(["definitionId": "after"]) == .null)
        await harness.cleanUp(second)
    }

    @Test func anAcceptedEventSurvivesAKillRightAfterTheAnswer() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(Self.never)
        _ = try await session.submitEvent(["definitionId": "survivor", "properties": ["on": "2024-03-01"]])
        // What a kill -9 leaves: the directory as it is now, lock and all (not released).
        let copy = TemporaryDirectory()
        runShell("cp -a '\(harness.directory.stateDirectory)' '\(copy.stateDirectory)'")
        let restarted = Session(
            stateDirectory: copy.stateDirectory, transport: harness.api, events: harness.events, logger: quietLogger,
            clock: harness.clock.wallClock, retryPolicy: SessionHarness.fastRetries)
        try await restarted.initialize(harness.configuration())
        #expect(await endpoint.wait(forEvents: 1))
        #expect(endpoint.events == [["definitionId": "survivor", "date": .string(Self.stamped), "properties": ["on": "2024-03-01T00:00:00Z"]]])
        await restarted.shutdown()
        copy.remove()
        await harness.cleanUp(session)
    }

    @Test func cleanupDropsHeldEvents() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        await session.useEventTiming(.milliseconds(200))
        _ = try await session.submitEvent(["definitionId": "gone"])
        try await session.cleanup()
        #expect(harness.heldDefinitionIds.isEmpty, "dropped on disk too")
        try await session.initialize(harness.configuration())
        try await Task.sleep(for: .milliseconds(400))
        #expect(endpoint.all.isEmpty)
        await harness.cleanUp(session)
    }

    @Test func submitEventBeforeInitIsNotInitialized() async throws {
        let harness = SessionHarness()
        let session = harness.makeSession()
        #expect(await caughtError { try await session.submitEvent(["definitionId": "a"]) }?.code == "NOT_INITIALIZED")
        #expect(await caughtError { try await session.submitEventImmediately(["definitionId": "a"]) }?.code == "NOT_INITIALIZED")
        await harness.cleanUp(session)
    }

    @Test func aMalformedEventIsInvalidParamsAndNothingIsKept() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let error = await caught { try await session.submitEvent(["definitionId": "", "properties": ["a": 1]]) }
        #expect((error as? InvalidParameter)?.field == "event.definitionId")
        #expect(harness.heldDefinitionIds.isEmpty)
        await harness.cleanUp(session)
    }

    // MARK: submitEventImmediately

    @Test func submitEventImmediatelySendsOneValidatedEventAndAnswersNull() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        #expect(try await session.submitEventImmediately(["definitionId": "purchase", "properties": ["paid": true]]) == .null)
        let arrival = try #require(endpoint.all.first)
        #expect(arrival.validate == "true")
        #expect(arrival.authorization == "App app-1")
        #expect(arrival.events == [["definitionId": "purchase", "date": .string(Self.stamped), "properties": ["paid": true]]])
        #expect(harness.heldDefinitionIds.isEmpty)
        await harness.cleanUp(session)
    }

    @Test(arguments: [
        (FakeEventsEndpoint.Fault.status(400, "EVENT_DEFINITION_NOT_FOUND"), "EVENT_DEFINITION_NOT_FOUND", 400),
        (.network, "NETWORK_ERROR", nil), (.status(503, "SERVICE_UNAVAILABLE"), "SERVICE_UNAVAILABLE", 503),
    ] as [(FakeEventsEndpoint.Fault, String, Int?)])
    func submitEventImmediatelyAnswersTheFailureAndKeepsNothing(fault: FakeEventsEndpoint.Fault, code: String, status: Int?) async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = try await harness.registeredSession()
        endpoint.set(fault)
        let error = await caughtError { try await session.submitEventImmediately(["definitionId": "purchase"]) }
        #expect(error?.code == code)
        #expect(error?.httpStatus == status)
        #expect(error?.pending == false)
        #expect(error?.description.isEmpty == false)
        endpoint.set(nil)
        try await Task.sleep(for: .milliseconds(200))
        #expect(harness.api.requests.filter(FakeEventsEndpoint.isEventRequest).count == 1, "one attempt, nothing retried")
        #expect(harness.heldDefinitionIds.isEmpty)
        await harness.cleanUp(session)
    }

    @Test func submitEventImmediatelyWaitsForTheRegistration() async throws {
        let harness = SessionHarness()
        let endpoint = FakeEventsEndpoint.install(on: harness.api)
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        #expect(try await session.submitEventImmediately(["definitionId": "first"]) == .null)
        #expect(endpoint.definitionIds == ["first"])
        #expect(harness.api.requests.first?.summary == "POST /mobile/1/appinstance")
        await harness.cleanUp(session)
    }
}
