import JSON
import Testing

@testable import MMCoreEngine

/// The write protocol itself: a kill at any step leaves the old or the new state, and
/// the two durability levels sync exactly when they say.
@Suite struct StateWriteProtocolTests {
    static func oldState() -> PersistedState { StateStoreTests.sampleState() }

    static func newState() -> PersistedState {
        var state = StateStoreTests.sampleState()
        state.user = UserData(api: ["externalUserId": "grace", "customAttributes": ["plan": "platinum"]])
        state.pendingChanges.append(
            PendingChange(id: "2", kind: .saveUser, pushRegistrationId: "reg-1", body: ["firstName": "Grace"], createdAt: 1, nextAttemptAt: 2))
        return state
    }

    /// The same state without pending work, which `.ordered` may write without a sync.
    static func serverCopy(_ name: String) -> PersistedState {
        var state = PersistedState(applicationCode: "app-1")
        state.installation = Installation(api: ["pushRegId": "reg-1", "regEnabled": true])
        state.user = UserData(api: ["externalUserId": .string(name)])
        return state
    }

    // MARK: - Crash at every step

    static let stepsByDurability: [(StateStore.Durability, [StateStore.WriteStep])] = [
        (.synced, [.temporaryCreated, .partlyWritten, .written, .temporarySynced, .renamed, .directorySynced]),
        (.ordered, [.temporaryCreated, .partlyWritten, .written, .renamed]),
    ]

    @Test(arguments: stepsByDurability)
    func aKillAtEveryStepLeavesTheOldOrTheNewState(durability: StateStore.Durability, steps: [StateStore.WriteStep]) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let scratch = TemporaryDirectory()
        defer { scratch.remove() }
        // Without pending work, so `.ordered` is honoured rather than upgraded.
        let old = Self.serverCopy("ada")
        let new = Self.serverCopy("grace")
        try StateStore(directory: directory.stateDirectory).save(old, includeUser: true)
        // A stale temporary file from an earlier crash is in the way too.
        writeFile(directory.stateDirectory + "/state.json.tmp", #"{"formatVersion": 1, "applicationCode": "tor"#)

        let snapshots = CrashSnapshots(of: directory.stateDirectory, in: scratch)
        let store = try StateStore(
            directory: directory.stateDirectory, seams: StateStore.Seams(afterWriteStep: { snapshots.record($0) }))
        try store.save(new, includeUser: true, durability: durability)
        #expect(snapshots.steps == steps, "a step the check never saw proves nothing")
        #expect(snapshots.problems(old: old, new: new).isEmpty, "\(snapshots.problems(old: old, new: new))")
    }

    /// The check above catches a writer that overwrites the file in place: the file is
    /// torn while it is written.
    @Test func theCrashCheckCatchesAnInPlaceWrite() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let scratch = TemporaryDirectory()
        defer { scratch.remove() }
        let snapshots = CrashSnapshots(of: directory.stateDirectory, in: scratch)
        let statePath: String
        do {
            let store = try StateStore(directory: directory.stateDirectory)
            try store.save(Self.oldState(), includeUser: true)
            statePath = store.statePath
        }
        writeInPlace(Self.newState(), to: statePath) { snapshots.record($0) }

        let problems = snapshots.problems(old: Self.oldState(), new: Self.newState())
        #expect(problems.contains { $0.hasPrefix("after temporaryCreated: STATE_CORRUPTED") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("after partlyWritten: STATE_CORRUPTED") }, "\(problems)")
    }

    // MARK: - Durability

    @Test func syncedIsTheDefaultAndSyncsTheFileAndTheDirectory() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(Self.serverCopy("ada"), includeUser: true)
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1))
        #expect(!store.hasUnsyncedWrites)
        try store.save(Self.serverCopy("ada"), includeUser: true, durability: .synced)
        #expect(store.syncCounts == StateStore.SyncCounts(files: 2, directories: 2))
    }

    @Test func aBurstOfOrderedWritesSharesOneSync() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        for index in 0..<10 {
            try store.save(Self.serverCopy("user-\(index)"), includeUser: true, durability: .ordered)
            // Each write is visible (renamed into place) at once, synced or not.
            #expect(try store.load(now: 0) == Self.serverCopy("user-\(index)"))
        }
        #expect(store.syncCounts == StateStore.SyncCounts(), "no sync before flush")
        #expect(store.hasUnsyncedWrites)

        try store.flush()
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1), "one sync for the whole burst")
        #expect(try store.load(now: 0) == Self.serverCopy("user-9"))
        #expect(!store.hasUnsyncedWrites)
        try store.flush()
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1), "nothing left to sync")
        #expect(!fileExists(store.temporaryPath))
    }

    @Test func aSyncedWriteMakesEarlierOrderedWritesDurableToo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(Self.serverCopy("a"), includeUser: true, durability: .ordered)
        try store.save(Self.serverCopy("b"), includeUser: true, durability: .ordered)
        try store.save(Self.serverCopy("c"), includeUser: true, durability: .synced)
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1))
        #expect(!store.hasUnsyncedWrites, "the synced write covered the earlier ones")
        try store.flush()
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1))
    }

    /// The rule is enforced where it cannot be forgotten: a state that carries pending
    /// changes is the only copy of them, so it is synced whatever the caller asked.
    @Test func anOrderedWriteOfPendingWorkIsSyncedAnyway() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(Self.newState(), includeUser: true, durability: .ordered)
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1))
        #expect(!store.hasUnsyncedWrites)

        // Without the user, queued user changes are not written: nothing pending is left
        // in the file, so the write may stay ordered.
        var userChangesOnly = Self.serverCopy("ada")
        userChangesOnly.pendingChanges = [
            PendingChange(id: "1", kind: .saveUser, pushRegistrationId: "reg-1", body: ["firstName": "Ada"], createdAt: 1, nextAttemptAt: 2)
        ]
        try store.save(userChangesOnly, includeUser: false, durability: .ordered)
        #expect(store.syncCounts == StateStore.SyncCounts(files: 1, directories: 1))
        #expect(store.hasUnsyncedWrites)
    }

    @Test func unsyncedWritesAreSyncedWhenTheStoreCloses() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let scratch = TemporaryDirectory()
        defer { scratch.remove() }
        let snapshots = CrashSnapshots(of: directory.stateDirectory, in: scratch)
        var store: StateStore? = try StateStore(
            directory: directory.stateDirectory, seams: StateStore.Seams(afterWriteStep: { snapshots.record($0) }))
        try store?.save(Self.serverCopy("ada"), includeUser: true, durability: .ordered)
        #expect(store?.hasUnsyncedWrites == true)
        #expect(snapshots.steps.last == .renamed)
        store = nil
        #expect(snapshots.steps.last == .flushed, "the last ordered write is synced before the store lets go")
        let reopened = try StateStore(directory: directory.stateDirectory)
        #expect(try reopened.load(now: 0) == Self.serverCopy("ada"))
    }
}
