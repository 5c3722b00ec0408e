import JSON
import Testing

@testable import MMCoreEngine

/// The event as the app writes it, checked and mapped to what the Mobile API receives.
@Suite struct CustomEventInputTests {
    @Test func everyPropertyKindIsSentAsTheIOSSDKSendsIt() throws {
        let input = try CustomEventInput(
            wrapper: [
                "definitionId": "purchase",
                "properties": [
                    "item": "book", "price": 12.5, "quantity": 2, "gift": true,
                    "deliveredOn": "2024-03-01", "paidAt": "2020-02-26T09:41:57Z",
                    "lines": [["sku": "b-1", "count": 1, "discounted": false, "shippedOn": "2024-03-02"]],
                ],
            ], path: "event")
        let event = input.stamped(at: 1_800_000_000)
        #expect(
            event.apiJSON
                == [
                    "definitionId": "purchase", "date": "2027-01-15T08:00:00Z",
                    "properties": [
                        "item": "book", "price": 12.5, "quantity": 2, "gift": true,
                        // A calendar date becomes that day at midnight UTC (iOS); a date with a time goes as written.
                        "deliveredOn": "2024-03-01T00:00:00Z", "paidAt": "2020-02-26T09:41:57Z",
                        "lines": [["sku": "b-1", "count": 1, "discounted": false, "shippedOn": "2024-03-02"]],
                    ],
                ])
    }

    @Test func propertiesMayBeLeftOutOrNull() throws {
        for value: JSONValue in [["definitionId": "d"], ["definitionId": "d", "properties": nil]] {
            let event = try CustomEventInput(wrapper: value, path: "event").stamped(at: 0)
            #expect(event.apiJSON == ["definitionId": "d", "date": "1970-01-01T00:00:00Z"])
        }
    }

    @Test(arguments: [
        (JSONValue.string("purchase"), "event", "must be an object, got a string"),
        ([:], "event.definitionId", "is required"),
        (["definitionId": 5], "event.definitionId", "must be a string, got a number"),
        (["definitionId": ""], "event.definitionId", "must not be blank"),
        (["definitionId": " \t"], "event.definitionId", "must not be blank"),
        (["definitionId": "d", "date": "2024-01-01"], "event.date", "is not a known field"),
        (["definitionId": "d", "properties": "x"], "event.properties", "must be an object, got a string"),
        (["definitionId": "d", "properties": ["a": nil]], "event.properties.a", "got null"),
        (["definitionId": "d", "properties": ["a": ["b": 1]]], "event.properties.a", "got an object"),
        (["definitionId": "d", "properties": ["": 1]], "event.properties.", "must have a non-empty name"),
        (["definitionId": "d", "properties": ["a": [1]]], "event.properties.a[0]", "must be an object, got a number"),
        (["definitionId": "d", "properties": ["a": [["x": 1], ["y": [2]]]]], "event.properties.a[1].y", "got an array"),
        (["definitionId": "d", "properties": ["a": [["x": nil]]]], "event.properties.a[0].x", "got null"),
    ] as [(JSONValue, String, String)])
    func aMalformedEventIsRefusedNamingTheField(value: JSONValue, field: String, reason: String) {
        let error = #expect(throws: InvalidParameter.self) { try CustomEventInput(wrapper: value, path: "event") }
        #expect(error?.field == field)
        #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "")")
    }

    @Test func anEventOverTheSizeLimitIsRefused() {
        var limits = EventQueueLimits.standard
        limits.maximumEventBytes = 100
        let value: JSONValue = ["definitionId": "d", "properties": ["text": .string(String(repeating: "x", count: 100))]]
        #expect(throws: InvalidParameter.self) { try CustomEventInput(wrapper: value, path: "event", limits: limits) }
        #expect(throws: Never.self) { try CustomEventInput(wrapper: ["definitionId": "d"], path: "event", limits: limits) }
    }
}

@Suite struct ISO8601SecondsTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"), (1_800_000_000, "2027-01-15T08:00:00Z"),
        (1_800_000_000.9, "2027-01-15T08:00:00Z"), (-1, "1969-12-31T23:59:59Z"), (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] as [(Double, String)])
    func writesUTCWithSeconds(time: Double, expected: String) {
        #expect(ISO8601Seconds.string(fromUnixTime: time) == expected)
    }
}

/// The queue's rules, without a session.
@Suite struct EventQueueTests {
    static func event(_ id: String, size: Int = 0) -> CustomEvent {
        CustomEvent(
            definitionId: id, date: "2027-01-15T08:00:00Z",
            properties: size > 0 ? ["text": .string(String(repeating: "x", count: size))] : nil)
    }

    static func filled(_ ids: [String], limits: EventQueueLimits = .standard) -> EventQueue {
        var queue = EventQueue(limits: limits)
        for id in ids { queue.append(event(id)) }
        return queue
    }

    @Test func theCountCapRefusesTheNextEventAndKeepsTheOthers() {
        var limits = EventQueueLimits.standard
        limits.maximumHeldEvents = 3
        let queue = Self.filled(["a", "b", "c"], limits: limits)
        #expect(queue.capProblem(for: Self.event("d")) != nil)
        #expect(queue.held.map(\.event.definitionId) == ["a", "b", "c"])
    }

    @Test func theByteCapCountsTheEventsAsSent() {
        var limits = EventQueueLimits.standard
        let one = EventQueue.size(of: Self.event("a"))
        limits.maximumHeldBytes = one * 2
        var queue = Self.filled(["a", "b"], limits: limits)
        #expect(queue.heldBytes == one * 2)
        #expect(queue.capProblem(for: Self.event("c")) != nil)
        queue.remove([queue.held[0]])
        #expect(queue.capProblem(for: Self.event("c")) == nil)
    }

    @Test(arguments: [(3, 1 << 20, [3, 3, 1]), (100, 300, [2, 2, 2, 1])] as [(Int, Int, [Int])])
    func batchesAreBoundedByCountAndBytes(events: Int, bytes: Int, expected: [Int]) {
        var limits = EventQueueLimits.standard
        limits.maximumBatchEvents = events
        limits.maximumBatchBytes = bytes
        var queue = EventQueue(limits: limits)
        for index in 0..<7 { queue.append(Self.event("e\(index)", size: 50)) }
        var sizes: [Int] = []
        while case let batch = queue.nextBatch(), !batch.isEmpty {
            sizes.append(batch.count)
            queue.remove(batch)
        }
        #expect(sizes == expected)
    }

    @Test func aBoundaryHoldsBackWhatWasSubmittedAfterItsCall() {
        var queue = Self.filled(["before"])
        let boundary = queue.openBoundary()
        queue.append(Self.event("after"))
        #expect(queue.nextBatch().map(\.event.definitionId) == ["before"])
        queue.remove(queue.nextBatch())
        #expect(queue.nextBatch().isEmpty)
        #expect(!queue.hasDeliverableEvents)
        let closed = queue.closeBoundary(boundary)
        #expect(closed)
        #expect(queue.nextBatch().map(\.event.definitionId) == ["after"])
    }

    @Test func aDurableBoundaryStaysUntilItsQueuedDepersonalizeIsGone() {
        var queue = Self.filled(["a"])
        let first = queue.openBoundary()
        queue.append(Self.event("b"))
        let second = queue.openBoundary()
        queue.append(Self.event("c"))
        queue.makeDurable(first)
        queue.makeDurable(second)
        let closedADurableOne = queue.closeBoundary(first)
        #expect(!closedADurableOne, "closing the call leaves a durable boundary")
        let reconciledWithTwo = queue.reconcile(queuedDepersonalizes: 2)
        #expect(!reconciledWithTwo)
        queue.remove(queue.nextBatch())
        #expect(queue.nextBatch().isEmpty, "b waits for the first queued depersonalize")
        let reconciledWithOne = queue.reconcile(queuedDepersonalizes: 1)
        #expect(reconciledWithOne, "the first one was delivered")
        #expect(queue.nextBatch().map(\.event.definitionId) == ["b"])
        queue.remove(queue.nextBatch())
        let reconciledWithNone = queue.reconcile(queuedDepersonalizes: 0)
        #expect(reconciledWithNone)
        #expect(queue.nextBatch().map(\.event.definitionId) == ["c"])
    }

    @Test func theFileKeepsEventsDurableBoundariesAndTheSequence() throws {
        var queue = Self.filled(["a", "b"])
        let memoryOnly = queue.openBoundary()
        queue.append(Self.event("c"))
        let durable = queue.openBoundary()
        queue.makeDurable(durable)
        queue.remove([queue.held[0]])
        let document = EventQueueFile.document(of: queue)
        let restored = try EventQueueFile.queue(from: JSONValue(parsing: document.serialized), limits: .standard)
        #expect(restored.held == queue.held)
        #expect(restored.boundaries.map(\.after) == [3], "only the durable boundary is written")
        #expect(restored.nextSequence == 4)
        _ = memoryOnly
    }

    @Test(arguments: [
        #"[]"#, #"{"formatVersion":2,"nextSequence":1,"events":[]}"#, #"{"formatVersion":1,"events":[]}"#,
        #"{"formatVersion":1,"nextSequence":3,"events":[{"sequence":2,"definitionId":"a","date":"x"},{"sequence":2,"definitionId":"b","date":"x"}]}"#,
        #"{"formatVersion":1,"nextSequence":3,"events":[{"sequence":1,"definitionId":5,"date":"x"}]}"#,
        #"{"formatVersion":1,"nextSequence":3,"events":[],"depersonalizeBoundaries":["x"]}"#,
    ])
    func aMalformedFileIsAFormatError(text: String) {
        #expect(throws: EventQueueFile.FormatError.self) { try EventQueueFile.queue(from: JSONValue(parsing: text), limits: .standard) }
    }
}
