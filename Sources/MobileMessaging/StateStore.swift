import JSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The state directory: one JSON state file, written crash-safely, guarded by a lock
/// that one process holds for as long as it uses the directory.
///
/// Layout:
///
/// ```
/// <directory>/                       0700 when created here
///   state.json                       0600, see PersistedState
///   state.json.tmp                   0600, only while a write is under way
///   state.lock                       0600, flock'ed; holds the owner's pid, for people
///   state.json.corrupt-<unix time>   an unreadable state file, moved aside
/// ```
///
/// A write goes to `state.json.tmp`, is fsync'ed, renamed over `state.json`, and the
/// directory is fsync'ed: a `kill -9` at any instant leaves the old or the new state,
/// never a torn one. Plain POSIX calls rather than Foundation's file APIs because each
/// of those steps (and the modes) must be exactly this.
final class StateStore: Sendable {
    let directory: String
    let statePath: String
    let temporaryPath: String
    let lockPath: String
    /// The open lock file; the `flock` on it lives as long as this descriptor.
    private let lockDescriptor: Int32

    /// Creates the directory if needed and takes the lock.
    ///
    /// - Throws: `STATE_LOCKED` when another process (or another store in this one)
    ///   holds it; `STATE_UNAVAILABLE` when the directory cannot be created or used.
    init(directory: String) throws(MobileMessagingError) {
        var trimmed = directory
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw .stateUnavailable("the state directory path is empty") }
        self.directory = trimmed
        statePath = trimmed + "/state.json"
        temporaryPath = statePath + ".tmp"
        lockPath = trimmed + "/state.lock"

        try Self.makeDirectory(trimmed)
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .stateUnavailable("cannot open \(lockPath): \(Self.lastError())") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let owner = Self.readSmallFile(descriptor: descriptor).flatMap { bytes in
                String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
            }
            close(descriptor)
            if failure == EWOULDBLOCK || failure == EAGAIN {
                throw .stateLocked(trimmed + (owner.map { " (pid \($0))" } ?? ""))
            }
            throw .stateUnavailable("cannot lock \(lockPath): \(Self.describe(failure))")
        }
        lockDescriptor = descriptor
        fchmod(descriptor, 0o600)
        // The owner's pid, for a person wondering who holds the lock; best effort.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = Self.writeAll(descriptor, pid, at: 0) }
    }

    deinit {
        // Unlock explicitly: a child forked meanwhile may still share the descriptor
        // (until its exec closes it), and the lock would live on with it.
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }

    // MARK: - Load and save

    /// Reads the state file; a missing file is an empty state.
    ///
    /// - Throws: `STATE_CORRUPTED` once for an unreadable file, after moving it aside to
    ///   `state.json.corrupt-<now>` (named in the description), so the next load
    ///   starts clean; `STATE_UNAVAILABLE` when the file cannot be read at all.
    func load(now: Double) throws(MobileMessagingError) -> PersistedState {
        let descriptor = open(statePath, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return PersistedState() }
            throw .stateUnavailable("cannot open \(statePath): \(Self.lastError())")
        }
        let bytes = Self.readSmallFile(descriptor: descriptor, limit: 64 << 20)
        close(descriptor)

        let reason: String
        if let bytes {
            do {
                return try PersistedState(json: JSONParser.parse(bytes))
            } catch let error as JSONParseError {
                reason = "not JSON: \(error.description)"
            } catch let error as PersistedState.FormatError {
                reason = error.reason
            } catch {
                reason = String(describing: error)
            }
        } else {
            reason = "unreadable or larger than 64 MiB"
        }
        let asidePath = try moveAside(now: now)
        throw .stateCorrupted(movedTo: asidePath, reason)
    }

    /// Replaces the state file crash-safely (temporary file, fsync, rename, fsync of
    /// the directory). The user is left out when `includeUser` is false.
    func save(_ state: PersistedState, includeUser: Bool) throws(MobileMessagingError) {
        var bytes = state.json(includeUser: includeUser).serializedBytes
        bytes.append(0x0A)

        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .stateUnavailable("cannot create \(temporaryPath): \(Self.lastError())") }
        fchmod(descriptor, 0o600)
        guard Self.writeAll(descriptor, bytes, at: nil), fsync(descriptor) == 0 else {
            let message = Self.lastError()
            close(descriptor)
            unlink(temporaryPath)
            throw .stateUnavailable("cannot write \(temporaryPath): \(message)")
        }
        close(descriptor)
        guard rename(temporaryPath, statePath) == 0 else {
            let message = Self.lastError()
            unlink(temporaryPath)
            throw .stateUnavailable("cannot replace \(statePath): \(message)")
        }
        syncDirectory()
    }

    /// Moves the state file to a free `state.json.corrupt-<now>[-n]` name and returns it.
    private func moveAside(now: Double) throws(MobileMessagingError) -> String {
        let base = "\(statePath).corrupt-\(Int(now))"
        var candidate = base
        var suffix = 1
        while access(candidate, F_OK) == 0 {
            suffix += 1
            candidate = "\(base)-\(suffix)"
        }
        guard rename(statePath, candidate) == 0 else {
            throw .stateUnavailable("cannot move the unreadable \(statePath) aside: \(Self.lastError())")
        }
        syncDirectory()
        return candidate
    }

    private func syncDirectory() {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    // MARK: - POSIX helpers

    /// `mkdir -p` with mode 0700 for what it creates; an existing directory is used as is.
    private static func makeDirectory(_ path: String) throws(MobileMessagingError) {
        var isDirectory = false
        if exists(path, isDirectory: &isDirectory) {
            guard isDirectory else { throw .stateUnavailable("\(path) exists and is not a directory") }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]))
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .stateUnavailable("cannot create \(path): \(lastError())")
        }
        chmod(path, 0o700)
    }

    private static func exists(_ path: String, isDirectory: inout Bool) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        return true
    }

    /// Reads a whole file from its start; `nil` on a read error or past `limit`.
    private static func readSmallFile(descriptor: Int32, limit: Int = 4096) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            offset += off_t(count)
            if bytes.count > limit { return nil }
        }
    }

    /// Writes every byte, at `offset` or at the current position; `false` on error.
    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], at offset: off_t?) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                let start = buffer.baseAddress! + written
                let remaining = buffer.count - written
                return offset.map { pwrite(descriptor, start, remaining, $0 + off_t(written)) } ?? write(descriptor, start, remaining)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += count
        }
        return true
    }

    private static func lastError() -> String { describe(errno) }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
