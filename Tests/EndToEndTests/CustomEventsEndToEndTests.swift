import Foundation
import JSON
import Testing

/// Custom events end to end: mmcore against a live mmserver's
/// `POST /mobile/1/appinstance/{id}/user/events/custom?validate=`.
///
/// **Runs once mmserver serves that route** (it is being added to the server on its own
/// branch): until `Sources/MobileAPIServer` mentions it, the suite is disabled rather
/// than failing. What is checked needs only the route and the existing admin API (the
/// request log and faults), not the server's event listing.
@Suite(.serialized, .enabled(if: MMServerSources.servesCustomEvents, "needs mmserver's custom events route"))
struct CustomEventsEndToEndTests {
    static let route = "/user/events/custom"

    static let fastRetries: JSONObject = ["retryBaseDelaySeconds": 0.2, "retryMaxDelaySeconds": 1]

    /// The logged requests to the events route.
    static func eventRequests(_ harness: CoreHarness, since: Int = 0) async throws -> [JSONValue] {
        try await harness.server.requests(since: since).filter {
            $0["method"] == "POST" && $0["path"]?.stringValue?.hasSuffix(route) == true
        }
    }

    static func status(_ entry: JSONValue) -> Int { entry["status"]?.numberValue?.intValue ?? 0 }

    /// Waits until the events route has answered 2xx `count` times.
    static func waitForDeliveries(_ harness: CoreHarness, count: Int, timeout: Duration = .seconds(20)) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + timeout
        var delivered: [JSONValue] = []
        while ContinuousClock.now < deadline {
            delivered = try await eventRequests(harness).filter { (200..<300).contains(status($0)) }
            if delivered.count >= count { return delivered }
            try await Task.sleep(for: .milliseconds(100))
        }
        return delivered
    }

    static func heldEvents(_ harness: CoreHarness) -> [JSONValue] {
        let path = harness.stateDirectory.appendingPathComponent("events.json")
        guard let data = try? Data(contentsOf: path), let document = try? JSONParser.parse(Array(data)) else { return [] }
        return document["events"]?.arrayValue ?? []
    }

    static let everyKind: JSONValue = [
        "definitionId": "purchase",
        "properties": [
            "item": "book", "price": 12.5, "gift": true, "deliveredOn": "2024-03-01", "paidAt": "2020-02-26T09:41:57Z",
            "lines": [["sku": "b-1", "count": 1]],
        ],
    ]

    @Test func submitEventIsAcceptedThenDeliveredInOneBatch() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        for _ in 0..<3 {
            #expect(try await harness.call("submitEvent", [Self.everyKind]).result == .null)
        }
        #expect(Self.heldEvents(harness).count == 3, "on disk before the answers")
        let delivered = try await Self.waitForDeliveries(harness, count: 1)
        #expect(delivered.count == 1, "one batch after the quiet period: \(delivered)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(Self.heldEvents(harness).isEmpty)
        #expect(harness.core.events.allSatisfy { $0["params"]?["eventName"] != "customEventsDropped" })
        try await harness.validateAgainstSchema()
    }

    @Test func submitEventImmediatelyAnswersNullOrTheServersRefusal() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let refused = try await harness.call("submitEventImmediately", [["definitionId": "no-such-definition"]])
        #expect(refused.errorData?["domain"] == "com.mobile-messaging.backend", "\(refused)")
        #expect((400..<500).contains(refused.errorData?["httpStatus"]?.numberValue?.intValue ?? 0), "\(refused)")
        #expect(refused.errorData?["pending"] == nil)
        #expect(try await Self.eventRequests(harness).count == 1)
        #expect(Self.heldEvents(harness).isEmpty, "nothing kept for a retry")
        try await harness.validateAgainstSchema()
    }

    @Test func aTransientFailureIsRetriedUntilDelivered() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister(configuration: Self.fastRetries)
        let (status, body) = try await harness.server.admin(
            "PUT", "/admin/faults", json: [["method": "POST", "path": .string("/mobile/1/appinstance/*" + Self.route), "status": 503, "count": 2]])
        #expect(status == 200, "\(body)")
        #expect(try await harness.call("submitEvent", [["definitionId": "retried"]]).result == .null)
        let delivered = try await Self.waitForDeliveries(harness, count: 1, timeout: .seconds(30))
        #expect(delivered.count == 1)
        let all = try await Self.eventRequests(harness)
        #expect(all.map(Self.status) == [503, 503] + delivered.map(Self.status), "\(all)")
        try await harness.validateAgainstSchema()
    }

    @Test func eventsReachTheServerBeforeAPersonalizeWrittenAfterThem() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        let id = try await harness.initializeAndRegister()
        #expect(try await harness.call("submitEvent", [["definitionId": "anonymous"]]).result == .null)
        let personalized = try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]])
        #expect(personalized.result != nil, "\(personalized)")
        let log = try await harness.server.requests()
        let events = try #require(log.firstIndex { $0["path"]?.stringValue?.hasSuffix(Self.route) == true })
        let personalize = try #require(log.firstIndex { $0["path"] == .string("/mobile/1/appinstance/\(id)/personalize") })
        #expect(events < personalize, "\(log)")
        try await harness.validateAgainstSchema()
    }

    /// `kill -9` at random instants while events are submitted: after a restart every
    /// event that was answered `null` has left `events.json` through a delivered batch
    /// (none dropped).
    @Test func everyAcceptedEventSurvivesKillNineAtRandomInstants() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister(configuration: Self.fastRetries)
        var accepted = 0
        var kills = 0
        for index in 0..<30 {
            let answer = Task { try await harness.call("submitEvent", [["definitionId": .string("e\(index)")]], timeout: .seconds(5)) }
            if Int.random(in: 0..<5) == 0 {
                try await Task.sleep(for: .microseconds(Int.random(in: 0..<3000)))
                try await harness.crashAndRestartCore()
                kills += 1
                _ = try await harness.call("init", [.object((harness.configuration.objectValue ?? [:]).merging(Self.fastRetries))])
                if case .result(.null)? = try? await answer.value { accepted += 1 }
            } else if case .result(.null) = try await answer.value {
                accepted += 1
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !Self.heldEvents(harness).isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(Self.heldEvents(harness).isEmpty, "every accepted event was delivered")
        #expect(accepted >= 30 - kills)
        #expect(harness.core.events.allSatisfy { $0["params"]?["eventName"] != "customEventsDropped" })
    }
}

/// What the server's sources say, read before any test runs.
enum MMServerSources {
    /// Whether the server's sources have the events route (grep, so the check is cheap
    /// and made before any process starts).
    static var servesCustomEvents: Bool {
        let sources = CoreProcess.packageRoot.appendingPathComponent("Sources/MobileAPIServer")
        guard let files = FileManager.default.enumerator(atPath: sources.path) else { return false }
        for case let name as String in files where name.hasSuffix(".swift") {
            let text = (try? String(contentsOf: sources.appendingPathComponent(name), encoding: .utf8)) ?? ""
            if text.contains("events/custom") || text.contains("\"custom\"") { return true }
        }
        return false
    }
}
