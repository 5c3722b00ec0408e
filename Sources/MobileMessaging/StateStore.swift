import JSON

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
/// A write goes to `state.json.tmp` (created exclusively), is fsync'ed, renamed over
/// `state.json`, and the directory is fsync'ed: a `kill -9` at any instant leaves the old
/// or the new state, never a torn one. Files are reached through `StateDirectory`, which
/// never follows a link or blocks on a FIFO.
/// Plain POSIX calls rather than Foundation's file APIs because each of those steps (and
/// the modes) must be exactly this.
final class StateStore: Sendable {
    /// Where tests reach in; production uses the defaults.
    struct Seams: Sendable {
        /// The uid the directory and its files must belong to.
        var owner: uid_t = geteuid()
    }

    static let stateName = "state.json"
    static let temporaryName = "state.json.tmp"
    static let lockName = "state.lock"

    let directory: String
    let statePath: String
    let temporaryPath: String
    let lockPath: String
    private let files: StateDirectory
    /// The open lock file; the `flock` on it lives as long as this descriptor.
    private let lockDescriptor: Int32

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

    // MARK: - Save

    /// Replaces the state file crash-safely (temporary file, fsync, rename, fsync of
    /// the directory). The user is left out when `includeUser` is false.
    func save(_ state: PersistedState, includeUser: Bool) throws(MobileMessagingError) {
        var bytes = state.json(includeUser: includeUser).serializedBytes
        bytes.append(0x0A)
        let file = try files.createExclusively(Self.temporaryName)
        defer { close(file) }
        guard StateDirectory.writeAll(file, bytes[...]), fsync(file) == 0 else {
            let error = MobileMessagingError.stateUnavailable("cannot write \(temporaryPath): \(StateDirectory.lastError())")
            files.remove(Self.temporaryName)
            throw error
        }
        do {
            try files.rename(Self.temporaryName, to: Self.stateName)
        } catch {
            files.remove(Self.temporaryName)
            throw error
        }
        try files.sync()
    }
}
