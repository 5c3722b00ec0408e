import JSON
import Testing

@testable import MMCoreEngine

/// The sync queue's rules as a pure value: no session, no fake server.
@Suite struct SyncQueueTests {
    typealias Step = (kind: PendingChange.Kind, own: String, body: JSONObject?)

    static func queue(_ steps: [Step]) -> SyncQueue {
        var queue = SyncQueue()
        for step in steps { queue.enqueue(step.kind, own: step.own, body: step.body, now: 0, nextAttemptAt: 5) }
        return queue
    }

    /// Each row: the changes queued, then the kinds and bodies the queue holds.
    static let mergeTable: [(String, [Step], [(PendingChange.Kind, JSONObject?)])] = [
        ("two saves merge, the last write per field wins",
         [(.saveUser, "a", ["firstName": "A", "lastName": "L"]), (.saveUser, "a", ["firstName": "B"])],
         [(.saveUser, ["firstName": "B", "lastName": "L"])]),
        ("custom attributes merge key by key",
         [(.saveUser, "a", ["customAttributes": ["x": 1, "y": 2]]), (.saveUser, "a", ["customAttributes": ["y": 3]])],
         [(.saveUser, ["customAttributes": ["x": 1, "y": 3]])]),
        ("attributes cleared then set again cannot be one PATCH",
         [(.saveUser, "a", ["customAttributes": nil]), (.saveUser, "a", ["customAttributes": ["y": 3]])],
         [(.saveUser, ["customAttributes": nil]), (.saveUser, ["customAttributes": ["y": 3]])]),
        ("a save never merges across a depersonalize",
         [(.saveUser, "a", ["firstName": "A"]), (.depersonalize, "a", nil), (.saveUser, "a", ["firstName": "B"])],
         [(.saveUser, ["firstName": "A"]), (.depersonalize, nil), (.saveUser, ["firstName": "B"])]),
        ("installation changes merge past user changes",
         [(.saveInstallation, "a", ["language": "en"]), (.saveUser, "a", ["firstName": "A"]), (.saveInstallation, "a", ["language": "de"])],
         [(.saveInstallation, ["language": "de"]), (.saveUser, ["firstName": "A"])]),
        ("changes of another installation do not merge",
         [(.saveUser, "a", ["firstName": "A"]), (.saveUser, "b", ["firstName": "B"])],
         [(.saveUser, ["firstName": "A"]), (.saveUser, ["firstName": "B"])]),
        ("two depersonalizes stay two",
         [(.depersonalize, "a", nil), (.depersonalize, "a", nil)],
         [(.depersonalize, nil), (.depersonalize, nil)]),
    ]

    @Test(arguments: mergeTable)
    func merging(_ row: (String, [Step], [(PendingChange.Kind, JSONObject?)])) {
        let queue = Self.queue(row.1)
        #expect(queue.changes.map(\.kind) == row.2.map(\.0), "\(row.0)")
        #expect(queue.changes.map(\.body) == row.2.map(\.1), "\(row.0)")
        #expect(Set(queue.changes.map(\.id)).count == queue.changes.count, "ids are unique")
    }

    @Test func theNextChangeIsTheOldestOfTheKindsAskedFor() {
        let queue = Self.queue([(.saveInstallation, "a", ["language": "en"]), (.saveUser, "a", ["firstName": "A"]), (.depersonalize, "a", nil)])
        #expect(queue.next(of: [.saveUser, .depersonalize], skipping: [])?.kind == .saveUser)
        let first = queue.next(of: [.saveUser, .depersonalize], skipping: [])!.id
        #expect(queue.next(of: [.saveUser, .depersonalize], skipping: [first])?.kind == .depersonalize)
        #expect(queue.next(of: [.saveInstallation], skipping: [])?.kind == .saveInstallation)
    }

    @Test func aSaveRefusedForItsTokenWaitsUntilANewTokenOrIsDroppedByDepersonalize() {
        var queue = Self.queue([(.saveUser, "a", ["firstName": "A"]), (.saveInstallation, "a", ["language": "en"])])
        let save = queue.changes[0]
        #expect(!queue.isTokenBlocked(save, paused: false))
        queue.markAwaitingToken(save.id, refusedWith: .jwtExpired)
        #expect(queue.isTokenBlocked(save, paused: false))
        #expect(queue.hasDeliverableWork(paused: false), "the installation change can still go")
        queue.tokenArrived()
        #expect(!queue.isTokenBlocked(save, paused: false))
        #expect(queue.isTokenBlocked(save, paused: true), "every saveUser waits while authentication is paused")

        queue.markAwaitingToken(save.id, refusedWith: .jwtExpired)
        let dropped = queue.dropTokenBlocked(paused: false)
        #expect(dropped == 1)
        #expect(queue.changes.map(\.kind) == [.saveInstallation])
    }

    @Test func aDirectSaveSupersedesTheSameFieldsOfAChangeWaitingForAToken() {
        var queue = Self.queue([(.saveUser, "a", ["firstName": "Old", "lastName": "L", "customAttributes": ["x": 1, "y": 2]])])
        queue.markAwaitingToken(queue.changes[0].id, refusedWith: .jwtExpired)
        let first = queue.supersedeTokenBlockedFields(with: ["firstName": "New", "customAttributes": ["x": 5]])
        #expect(first)
        #expect(queue.changes.first?.body == ["lastName": "L", "customAttributes": ["y": 2]])
        let second = queue.supersedeTokenBlockedFields(with: ["lastName": "M", "customAttributes": ["y": 0]])
        #expect(second)
        #expect(queue.changes.isEmpty, "nothing of it is left")
    }

    @Test func localReadsApplyOnlyTheSavesAfterTheLastDepersonalize() {
        let queue = Self.queue([(.saveUser, "a", ["firstName": "A"]), (.depersonalize, "a", nil), (.saveUser, "a", ["lastName": "B"])])
        #expect(queue.userBodiesForLocalRead == [["lastName": "B"]])
        #expect(queue.lastUserSideKind == .saveUser)
        #expect(queue.depersonalizeFollows(queue.changes[0]))
        #expect(!queue.depersonalizeFollows(queue.changes[2]))
    }

    @Test func aFailedAttemptIsCounted() {
        var queue = Self.queue([(.depersonalize, "a", nil)])
        queue.noteFailedAttempt(queue.changes[0].id) { attempts in Double(attempts) * 10 }
        #expect(queue.changes[0].attempts == 2)
        #expect(queue.changes[0].nextAttemptAt == 20)
    }
}
