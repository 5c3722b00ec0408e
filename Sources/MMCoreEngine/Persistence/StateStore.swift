import JSON
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The state: one JSON file, written crash-safely, in a directory guarded by a lock
/// that one process holds for as long as it uses it.
///
/// Layout:
///
/// ```
/// <directory>/                       0700 (tightened on start), owned by us or refused
///   state.json                       0600 (tightened on load), see PersistedState
///   state.json.tmp                   0600, only while a write is under way
///   state.lock                       0600, flock'ed; holds the owner's pid, for people
///   state.json.corrupt-<unix time>   an unreadable state file, moved aside
/// ```
///
/// A write goes to `state.json.tmp` (created exclusively), then is renamed over
/// `state.json`: a `kill -9` at any instant leaves the old or the new state, never a torn
/// one. How soon it is also safe from a power loss is the caller's `Durability`. Files
/// are reached through `StateDirectory`, which never follows a link or blocks on a FIFO.
/// Plain POSIX calls rather than Foundation's file APIs because each of those steps (and
/// the modes) must be exactly this.
final class StateStore: Sendable {
    /// How soon a write must survive a power loss, not only a crash of the process.
    enum Durability: Sendable {
        /// Synced before `save` returns (the temporary file, then the directory after the
        /// rename). For a state holding a change accepted as pending: the caller is told
        /// it is kept, so it must be on the disk first.
        case synced
        /// Renamed into place but not synced: a later `.synced` write or `flush()` makes
        /// it durable, and a burst of them shares that one sync. For copies of what the
        /// server already holds. A state with pending changes is synced anyway (see
        /// `save`), so a power loss can only cost copies the server can send again.
        case ordered
    }

    /// The steps of a write, reported to `Seams.afterWriteStep`.
    enum WriteStep: String, Sendable, CaseIterable {
        case temporaryCreated, partlyWritten, written, temporarySynced, renamed, directorySynced
        /// `flush()` (or closing the store) synced the last `.ordered` write.
        case flushed
    }

    /// Where tests reach in; production uses the defaults.
    struct Seams: Sendable {
        /// The uid the directory and its files must belong to.
        var owner: uid_t = geteuid()
        /// Called after each step of a write, under the store's lock (it must not call the
        /// store). A test copies the directory there: what a kill at that step leaves.
        var afterWriteStep: (@Sendable (WriteStep) -> Void)? = nil
    }

    /// How many `fsync` calls the store made, for tests and benchmarks.
    struct SyncCounts: Sendable, Equatable {
        var files = 0
        var directories = 0
    }

    static let stateName = "state.json"
    static let temporaryName = "state.json.tmp"
    static let lockName = "state.lock"

    let directory: String
    let statePath: String
    let temporaryPath: String
    let lockPath: String
    private let files: StateDirectory
    private let seams: Seams
    /// The open lock file; the `flock` on it lives as long as this descriptor.
    private let lockDescriptor: Int32

    private struct Writes: Sendable {
        /// The file of the last `.ordered` write while it is not synced.
        var unsynced: Int32?
        var counts = SyncCounts()
    }

    /// Held for every write, so writes never interleave: they share one temporary name.
    private let writes = Mutex(Writes())

    /// Creates the directory if needed, checks it, and takes the lock.
    ///
    /// - Throws: `STATE_LOCKED` when another process (or another store in this one)
    ///   holds it; `STATE_UNAVAILABLE` when the directory cannot be created or used (a
    ///   link, another user's, a lock file that is not a plain file of ours...).
    init(directory: String, seams: Seams = Seams()) throws(MobileMessagingError) {
        var trimmed = directory
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw .stateUnavailable("the state directory path is empty") }
        self.directory = trimmed
        self.seams = seams
        files = try StateDirectory(path: trimmed, owner: seams.owner)
        statePath = files.path(of: Self.stateName)
        temporaryPath = files.path(of: Self.temporaryName)
        lockPath = files.path(of: Self.lockName)

        let descriptor = try files.openLockFile(Self.lockName)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let owner = StateDirectory.readAll(descriptor, limit: 4096).flatMap { bytes in
                String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
            }
            close(descriptor)
            if failure == EWOULDBLOCK || failure == EAGAIN {
                throw .stateLocked(trimmed + (owner.map { " (pid \($0))" } ?? ""))
            }
            throw .stateUnavailable("cannot lock \(lockPath): \(StateDirectory.describe(failure))")
        }
        lockDescriptor = descriptor
        fchmod(descriptor, 0o600)
        // The owner's pid, for a person wondering who holds the lock; best effort.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = StateDirectory.writeAll(descriptor, pid[...], at: 0) }
    }

    deinit {
        // Best effort: whoever lets the store go cannot be told about a failure.
        try? flush()
        // Unlock explicitly: a child forked meanwhile may still share the descriptor
        // (until its exec closes it), and the lock would live on with it.
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }

    // MARK: - Load

    /// Reads the state file; a missing file is an empty state.
    ///
    /// - Throws: `STATE_CORRUPTED` once for a file that cannot be used (not JSON, a
    ///   malformed document or pending change, a link, a FIFO or other special file,
    ///   another user's file), after moving it aside to `state.json.corrupt-<now>` (named
    ///   in the description), so the next load starts clean; `STATE_UNAVAILABLE` when
    ///   the directory cannot be read at all.
    func load(now: Double) throws(MobileMessagingError) -> PersistedState {
        try writes.withLock { _ throws(MobileMessagingError) in
            let reason: String
            switch try files.read(Self.stateName, limit: 64 << 20) {
            case .missing:
                return PersistedState()
            case .refused(let problem):
                reason = "it is \(problem)"
            case .bytes(nil):
                reason = "unreadable or larger than 64 MiB"
            case .bytes(let bytes?):
                do {
                    return try PersistedState(json: JSONParser.parse(bytes))
                } catch let error as JSONParseError {
                    reason = "not JSON: \(error.description)"
                } catch let error as PersistedState.FormatError {
                    reason = error.reason
                } catch {
                    reason = String(describing: error)
                }
            }
            let asidePath = try files.moveAside(Self.stateName, now: now)
            throw .stateCorrupted(movedTo: asidePath, reason)
        }
    }

    // MARK: - Save

    /// Replaces the state file: temporary file, rename, and the syncs `durability` asks
    /// for. The user is left out when `includeUser` is false.
    ///
    /// A state that still holds pending changes is always written `.synced`: the file is
    /// their only copy, and replacing it by a file whose data has not reached the disk
    /// could, after a power loss on a file system that does not order the two, leave
    /// an empty file where they were.
    func save(_ state: PersistedState, includeUser: Bool, durability: Durability = .synced) throws(MobileMessagingError) {
        var bytes = state.json(includeUser: includeUser).serializedBytes
        bytes.append(0x0A)
        let synced = durability == .synced || state.holdsPendingWork(includeUser: includeUser)
        try writes.withLock { (writes) throws(MobileMessagingError) in
            try write(bytes, synced: synced, &writes)
        }
    }

    /// Makes every `.ordered` write so far durable: one sync of the file and one of the
    /// directory, however many writes there were. Nothing to do after a `.synced` one.
    func flush() throws(MobileMessagingError) {
        try writes.withLock { (writes) throws(MobileMessagingError) in
            guard let file = writes.unsynced else { return }
            guard fsync(file) == 0 else { throw .stateUnavailable("cannot sync \(statePath): \(StateDirectory.lastError())") }
            writes.counts.files += 1
            try files.sync()
            writes.counts.directories += 1
            close(file)
            writes.unsynced = nil
            seams.afterWriteStep?(.flushed)
        }
    }

    /// Whether an `.ordered` write is waiting for `flush()`.
    var hasUnsyncedWrites: Bool { writes.withLock { $0.unsynced != nil } }

    var syncCounts: SyncCounts { writes.withLock { $0.counts } }

    private func write(_ bytes: [UInt8], synced: Bool, _ writes: inout Writes) throws(MobileMessagingError) {
        let step = seams.afterWriteStep
        let file = try files.createExclusively(Self.temporaryName)
        step?(.temporaryCreated)
        var kept = false
        defer { if !kept { close(file) } }
        let failed = { (action: String) -> MobileMessagingError in
            let error = MobileMessagingError.stateUnavailable("cannot \(action) \(self.temporaryPath): \(StateDirectory.lastError())")
            self.files.remove(Self.temporaryName)
            return error
        }
        // In two parts only while a test watches, so it sees a half-written file.
        let half = step == nil ? bytes.count : bytes.count / 2
        guard StateDirectory.writeAll(file, bytes[..<half]) else { throw failed("write") }
        step?(.partlyWritten)
        guard StateDirectory.writeAll(file, bytes[half...]) else { throw failed("write") }
        step?(.written)
        if synced {
            guard fsync(file) == 0 else { throw failed("sync") }
            writes.counts.files += 1
            step?(.temporarySynced)
        }
        do {
            try files.rename(Self.temporaryName, to: Self.stateName)
        } catch {
            files.remove(Self.temporaryName)
            throw error
        }
        step?(.renamed)
        if synced {
            try files.sync()
            writes.counts.directories += 1
            // This durable file supersedes the earlier ordered ones: nothing left to flush.
            if let earlier = writes.unsynced { close(earlier) }
            writes.unsynced = nil
            step?(.directorySynced)
        } else {
            // Kept open so `flush()` syncs this very file, whatever is renamed meanwhile.
            if let earlier = writes.unsynced { close(earlier) }
            writes.unsynced = file
            kept = true
        }
    }
}
