import JSON
import Testing

@testable import MMCoreEngine

@Suite struct InboxSeenMarksTests {
    static func marks(_ user: String, _ ids: [String], at seenAt: Double = 100) -> JSONObject {
        InboxSeenMarks(externalUserId: user, messageIds: ids, seenAt: seenAt).queuedBody
    }

    @Test func theRequestSaysHowManyWholeSecondsAgoEachMessageWasSeen() {
        var marks = InboxSeenMarks(externalUserId: "ada", messageIds: ["m1"], seenAt: 1000.5)
        #expect(marks.requestBody(now: 1090.2) == ["externalUserId": "ada", "messages": [["messageId": "m1", "timestampDelta": 89, "inbox": true]]])
        // A clock set back never gives a negative delta.
        marks = InboxSeenMarks(externalUserId: "ada", messageIds: ["m1"], seenAt: 2000)
        #expect(marks.requestBody(now: 1000)["messages"]?[0]?["timestampDelta"] == 0)
    }

    @Test func aQueuedBodyReadsBackAndAnythingElseDoesNot() {
        let body = Self.marks("ada", ["m1", "m2"])
        #expect(InboxSeenMarks(queued: body)?.messageIds == ["m1", "m2"])
        #expect(InboxSeenMarks(queued: ["externalUserId": "ada", "messages": []]) == nil)
        #expect(InboxSeenMarks(queued: ["externalUserId": "ada", "messages": [["messageId": "m1"]]]) == nil)
        #expect(InboxSeenMarks(queued: ["messages": [["messageId": "m1", "seenAt": 1]]]) == nil)
    }

    // MARK: The queue's merge rule

    @Test func marksForTheSamePersonMergeIntoTheEntryRightBeforeThem() {
        var queue = SyncQueue()
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("ada", ["m1", "m2"]), now: 0, nextAttemptAt: 0)
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("ada", ["m2", "m3"], at: 200), now: 0, nextAttemptAt: 0)
        #expect(queue.changes.count == 1)
        let merged = InboxSeenMarks(queued: queue.changes[0].body ?? [:])
        #expect(merged?.messageIds == ["m1", "m2", "m3"])
        #expect(merged?.marks.map(\.seenAt) == [100, 100, 200], "a repeated id keeps its first mark")
    }

    @Test func marksDoNotMergeAcrossAnotherPersonOrAnotherChange() {
        var queue = SyncQueue()
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("ada", ["m1"]), now: 0, nextAttemptAt: 0)
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("bob", ["m2"]), now: 0, nextAttemptAt: 0)
        queue.enqueue(.saveUser, own: "reg-1", body: ["firstName": "Ada"], now: 0, nextAttemptAt: 0)
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("bob", ["m3"]), now: 0, nextAttemptAt: 0)
        #expect(queue.changes.map(\.kind) == [.inboxSeen, .inboxSeen, .saveUser, .inboxSeen], "call order kept")
        #expect(InboxSeenMarks.queuedIds(in: queue.changes, for: "bob") == ["m2", "m3"])
        #expect(InboxSeenMarks.queuedIds(in: queue.changes, for: "ada") == ["m1"])
    }

    @Test func marksDoNotCountAsThePersonsChanges() {
        var queue = SyncQueue()
        queue.enqueue(.saveUser, own: "reg-1", body: ["firstName": "A"], now: 0, nextAttemptAt: 0)
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("ada", ["m1"]), now: 0, nextAttemptAt: 0)
        queue.enqueue(.saveUser, own: "reg-1", body: ["lastName": "B"], now: 0, nextAttemptAt: 0)
        #expect(queue.changes.count == 2, "the two saves still merge: \(queue.changes.map(\.kind))")
        queue.enqueue(.depersonalize, own: "reg-1", body: nil, now: 0, nextAttemptAt: 0)
        queue.enqueue(.inboxSeen, own: "reg-1", body: Self.marks("ada", ["m2"]), now: 0, nextAttemptAt: 0)
        #expect(queue.lastUserSideKind == .depersonalize, "a depersonalize followed by marks is still the last person change")
        #expect(queue.hasDeliverableWork(paused: true), "marks never wait for a token")
    }

    // MARK: The state file

    @Test func aQueuedMarkSurvivesTheStateFileAndABadOneMakesItCorrupt() throws {
        var state = PersistedState(applicationCode: "app-1")
        state.pendingChanges = [
            PendingChange(id: "1", kind: .inboxSeen, pushRegistrationId: "", body: Self.marks("ada", ["m1"]), createdAt: 1, nextAttemptAt: 2)
        ]
        let read = try PersistedState(json: state.json(includeUser: true))
        #expect(read.pendingChanges == state.pendingChanges)
        // Marks hold an external user id: with userDataPersistingDisabled they stay in memory.
        #expect(state.json(includeUser: false)["pendingChanges"] == [])
        #expect(!state.holdsPendingWork(includeUser: false))

        var bad = state.json(includeUser: true).objectValue ?? [:]
        bad["pendingChanges"] = [["id": "1", "kind": "inboxSeen", "pushRegistrationId": "", "body": ["messages": "m1"]]]
        #expect(throws: PersistedState.FormatError.self) { try PersistedState(json: .object(bad)) }
    }

    // MARK: The ledger

    @Test func theLedgerSkipsSeenQueuedAndRepeatedIdsPerPerson() {
        var ledger = InboxSeenLedger()
        ledger.record(["m1"], of: "ada")
        #expect(ledger.unseen(["m1", "m2", "m2", "m3"], of: "ada", alsoSkipping: ["m3"]) == ["m2"])
        #expect(ledger.unseen(["m1"], of: "bob") == ["m1"], "another person's mark is theirs")
        ledger.removeAll()
        #expect(ledger.unseen(["m1"], of: "ada") == ["m1"])
    }

    @Test func theLedgerForgetsTheOldestBeyondItsCapacity() {
        var ledger = InboxSeenLedger()
        ledger.record((0...InboxSeenLedger.capacity).map { "m\($0)" }, of: "ada")
        #expect(ledger.unseen(["m0", "m1"], of: "ada") == ["m0"])
    }
}
