import JSON
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@testable import MMCoreEngine

/// The state directory turned against its owner: links planted where the store opens
/// files, loose modes, foreign owners, special files. Each test plants the trap the way
/// another local user (or a careless script) could, then checks that nothing outside
/// the directory changed and that the store either refuses clearly or stays safe.
@Suite struct StateDirectoryHardeningTests {
    static let victimState = #"{"formatVersion": 1, "applicationCode": "victim"}"# + "\n"

    // MARK: - Links (task: open nothing through a link)

    @Test func aLinkedLockFileIsRefusedAndItsTargetUntouched() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let victim = VictimFile(in: directory)
        makeStateDirectory(directory)
        makeSymbolicLink(at: directory.stateDirectory + "/state.lock", to: victim.path)

        let error = try #require(throws: MobileMessagingError.self) { try StateStore(directory: directory.stateDirectory) }
        #expect(error.code == "STATE_UNAVAILABLE")
        #expect(error.description.contains("state.lock"), "\(error.description)")
        #expect(error.description.contains("symbolic link"), "\(error.description)")
        #expect(victim.isUntouched, "the lock's target must be neither truncated, written nor chmod'ed")
        #expect(PathInfo(directory.stateDirectory + "/state.lock")?.isSymbolicLink == true, "the link is left for a person to look at")
    }

    @Test func aLinkedTemporaryFileIsReplacedNotFollowed() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let victim = VictimFile(in: directory)
        let store = try StateStore(directory: directory.stateDirectory)
        makeSymbolicLink(at: store.temporaryPath, to: victim.path)

        try store.save(StateStoreTests.sampleState(), includeUser: true)
        #expect(victim.isUntouched, "the temporary file's target must be neither truncated, written nor chmod'ed")
        #expect(PathInfo(store.statePath)?.isRegularFile == true, "state.json must be a new regular file, not the link renamed")
        #expect(PathInfo(store.statePath)?.mode == 0o600)
        #expect(!fileExists(store.temporaryPath))
        #expect(try store.load(now: 0) == StateStoreTests.sampleState())
    }

    @Test func aLinkedStateFileIsNotReadButMovedAside() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A well-formed state document, so following the link would "work".
        let victim = VictimFile(in: directory, content: Self.victimState)
        let store = try StateStore(directory: directory.stateDirectory)
        makeSymbolicLink(at: store.statePath, to: victim.path)

        let error = try #require(throws: MobileMessagingError.self) { try store.load(now: 1_800_000_000) }
        let aside = store.statePath + ".corrupt-1800000000"
        #expect(error.code == "STATE_CORRUPTED")
        #expect(error.description.contains("symbolic link"), "\(error.description)")
        #expect(error.description.contains(aside), "\(error.description)")
        #expect(PathInfo(aside)?.isSymbolicLink == true, "the link itself is moved aside")
        #expect(victim.isUntouched)
        #expect(try store.load(now: 0) == PersistedState(), "the next load starts clean")

        try store.save(StateStoreTests.sampleState(), includeUser: true)
        #expect(victim.isUntouched)
    }

    @Test func aLinkedStateDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let elsewhere = directory.path + "/elsewhere"
        mkdir(elsewhere, 0o755)
        chmod(elsewhere, 0o755)
        makeSymbolicLink(at: directory.stateDirectory, to: elsewhere)

        let error = try #require(throws: MobileMessagingError.self) { try StateStore(directory: directory.stateDirectory) }
        #expect(error.code == "STATE_UNAVAILABLE")
        #expect(error.description.contains("symbolic link"), "\(error.description)")
        #expect(listDirectory(elsewhere).isEmpty, "nothing is created through the link")
        #expect(PathInfo(elsewhere)?.mode == 0o755, "the link's target is not chmod'ed")
    }

    // MARK: - Modes and owners

    @Test func anExistingLooseDirectoryIsTightened() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        makeStateDirectory(directory, mode: 0o777)
        _ = try StateStore(directory: directory.stateDirectory)
        #expect(PathInfo(directory.stateDirectory)?.mode == 0o700)
    }

    @Test func anExistingLooseStateFileIsTightenedWhenLoaded() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(StateStoreTests.sampleState(), includeUser: true)
        chmod(store.statePath, 0o644)

        #expect(try store.load(now: 0) == StateStoreTests.sampleState())
        #expect(PathInfo(store.statePath)?.mode == 0o600, "tightened at load, not only at the next write")
    }

    @Test func aDirectoryOwnedBySomeoneElseIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        makeStateDirectory(directory, mode: 0o755)
        // The store is told it runs as another uid, so the directory (ours) is foreign.
        let pretendOwner = geteuid() &+ 1
        let error = try #require(throws: MobileMessagingError.self) {
            try StateStore(directory: directory.stateDirectory, seams: StateStore.Seams(owner: pretendOwner))
        }
        #expect(error.code == "STATE_UNAVAILABLE")
        #expect(error.description.contains("owned by uid \(geteuid())"), "\(error.description)")
        #expect(listDirectory(directory.stateDirectory).isEmpty, "no lock or state file is created in it")
        #expect(PathInfo(directory.stateDirectory)?.mode == 0o755, "a foreign directory is not chmod'ed")
    }

    @Test(.enabled(if: geteuid() == 0, "chown to another uid needs root"))
    func aDirectoryChownedToAnotherUserIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        makeStateDirectory(directory, mode: 0o777)
        #expect(chown(directory.stateDirectory, 54321, 54321) == 0)

        let error = try #require(throws: MobileMessagingError.self) { try StateStore(directory: directory.stateDirectory) }
        #expect(error.code == "STATE_UNAVAILABLE")
        #expect(error.description.contains("owned by uid 54321"), "\(error.description)")
        #expect(listDirectory(directory.stateDirectory).isEmpty)
        #expect(PathInfo(directory.stateDirectory)?.mode == 0o777)
    }

    @Test(.enabled(if: geteuid() == 0, "chown to another uid needs root"))
    func aStateFileOwnedByAnotherUserIsMovedAside() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        try store.save(StateStoreTests.sampleState(), includeUser: true)
        #expect(chown(store.statePath, 54321, 54321) == 0)

        let error = try #require(throws: MobileMessagingError.self) { try store.load(now: 1_800_000_000) }
        #expect(error.code == "STATE_CORRUPTED")
        #expect(error.description.contains("owned by uid 54321"), "\(error.description)")
        #expect(PathInfo(store.statePath + ".corrupt-1800000000")?.owner == 54321, "moved aside, not rewritten")
    }

    // MARK: - Special files (task: never block on one)

    enum SpecialFile: String, CaseIterable, Sendable {
        case fifo, directory, danglingLink

        var description: String {
            switch self {
            case .fifo: "a FIFO"
            case .directory: "a directory"
            case .danglingLink: "a symbolic link"
            }
        }

        func plant(at path: String) {
            switch self {
            case .fifo: makeFIFO(at: path)
            case .directory: mkdir(path, 0o700)
            case .danglingLink: makeSymbolicLink(at: path, to: path + ".nowhere")
            }
        }
    }

    @Test(arguments: SpecialFile.allCases)
    func aSpecialStateFileIsReportedAndMovedAsideWithoutBlocking(kind: SpecialFile) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(directory: directory.stateDirectory)
        kind.plant(at: store.statePath)
        let statePath = store.statePath

        let outcome = await runBounded(seconds: 5, rescue: { releaseFIFOReader(statePath) }) {
            LoadOutcome(store, now: 1_800_000_000)
        }
        let result = try #require(outcome, "load must not block on \(kind.description)")
        let error = try #require(result.error, "\(kind.description) is not a state file")
        #expect(error.code == "STATE_CORRUPTED")
        #expect(error.description.contains("not a regular file"), "\(error.description)")
        #expect(error.description.contains(kind.description), "\(error.description)")
        let aside = try #require(PathInfo(store.statePath + ".corrupt-1800000000"), "moved aside, not deleted")
        #expect(aside.type == {
            switch kind {
            case .fifo: S_IFIFO
            case .directory: S_IFDIR
            case .danglingLink: S_IFLNK
            }
        }())
        #expect(try store.load(now: 0) == PersistedState())
        try store.save(StateStoreTests.sampleState(), includeUser: true)
        #expect(try store.load(now: 0) == StateStoreTests.sampleState())
    }

    @Test func aSpecialLockFileIsRefusedWithoutBlocking() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        makeStateDirectory(directory)
        let lockPath = directory.stateDirectory + "/state.lock"
        makeFIFO(at: lockPath)
        let stateDirectory = directory.stateDirectory

        let outcome = await runBounded(seconds: 5, rescue: { releaseFIFOReader(lockPath) }) { () -> MobileMessagingError? in
            do throws(MobileMessagingError) {
                _ = try StateStore(directory: stateDirectory)
                return nil
            } catch {
                return error
            }
        }
        let result = try #require(outcome, "opening the lock must not block on a FIFO")
        let error = try #require(result, "a FIFO is not a lock file")
        #expect(error.code == "STATE_UNAVAILABLE")
        #expect(error.description.contains("state.lock"), "\(error.description)")
        #expect(error.description.contains("a FIFO"), "\(error.description)")
    }
}
