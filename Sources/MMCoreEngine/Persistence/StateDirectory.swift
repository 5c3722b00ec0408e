#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The state directory, opened once and checked: it is ours (owner, mode 0700), and
/// every file in it is reached through its descriptor (`openat`, `renameat`), never
/// through a symbolic link and never by blocking on a special file.
///
/// Why so careful: the directory may have been writable by someone else before we
/// tightened it (an old 0777 directory, a shared temporary path), and whatever they
/// planted there (a link to a file of ours, a FIFO) must not make us write, chmod or
/// hang on something outside it. Holding the descriptor also pins the directory we
/// checked: renaming the path away later does not redirect our writes.
final class StateDirectory: Sendable {
    let path: String
    /// The uid the directory and its files must belong to (the effective uid; tests
    /// pretend to be someone else).
    let owner: uid_t
    let descriptor: Int32

    /// Opens `path`, creating it (and missing parents) with mode 0700.
    ///
    /// - Throws: `STATE_UNAVAILABLE` when it cannot be created or opened, is a symbolic
    ///   link or not a directory, belongs to another uid, or cannot be made 0700.
    init(path: String, owner: uid_t) throws(MobileMessagingError) {
        self.path = path
        self.owner = owner
        try Self.create(path)
        // O_NOFOLLOW on the last component too: a link planted at the path we were
        // given would make us chmod and fill a directory of the victim's choosing.
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let failure = errno
            var info = stat()
            if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
                throw .stateUnavailable("\(path) is a symbolic link; pass the directory it points to, if it is yours")
            }
            if failure == ENOTDIR { throw .stateUnavailable("\(path) exists and is not a directory") }
            throw .stateUnavailable("cannot open \(path): \(Self.describe(failure))")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let failure = errno
            close(descriptor)
            throw .stateUnavailable("cannot inspect \(path): \(Self.describe(failure))")
        }
        guard info.st_uid == owner else {
            close(descriptor)
            throw .stateUnavailable(
                "\(path) is owned by uid \(info.st_uid), not by this user (uid \(owner)), who could read or replace the state in it; use a directory of your own"
            )
        }
        if info.st_mode & 0o7777 != 0o700 && fchmod(descriptor, 0o700) != 0 {
            let failure = errno
            close(descriptor)
            throw .stateUnavailable("cannot make \(path) owner-only (0700): \(Self.describe(failure))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    func path(of name: String) -> String { path + "/" + name }

    // MARK: - Files in it

    /// What is wrong with a file found in the directory, if anything: it must be a
    /// regular file of ours with no other name (a hard link to a file elsewhere would
    /// make a chmod or a write reach that file).
    func problem(with info: stat) -> String? {
        let type = info.st_mode & S_IFMT
        if type != S_IFREG { return "not a regular file but \(Self.describe(type: type))" }
        if info.st_uid != owner { return "owned by uid \(info.st_uid), not by this user (uid \(owner))" }
        if info.st_nlink != 1 { return "a file with \(info.st_nlink) names (hard links)" }
        return nil
    }

    /// `lstat` of `name` in the directory; `nil` when there is none.
    func entry(_ name: String) throws(MobileMessagingError) -> stat? {
        var info = stat()
        if fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { return info }
        if errno == ENOENT { return nil }
        throw .stateUnavailable("cannot inspect \(path(of: name)): \(Self.lastError())")
    }

    /// Opens the lock file, creating it 0600; refuses anything but a regular file of
    /// ours. Never replaced when in the way: two processes starting at once could then
    /// each lock a different file.
    func openLockFile(_ name: String) throws(MobileMessagingError) -> Int32 {
        let refuse = { (problem: String) -> MobileMessagingError in
            .stateUnavailable("\(self.path(of: name)) is \(problem); remove it if no mmcore is running")
        }
        if let info = try entry(name), let problem = problem(with: info) { throw refuse(problem) }
        // O_NONBLOCK: should a FIFO be swapped in after the check, open must not wait.
        let descriptor = openat(self.descriptor, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == ELOOP { throw refuse("not a regular file but a symbolic link") }
            throw .stateUnavailable("cannot open \(path(of: name)): \(Self.lastError())")
        }
        var info = stat()
        if fstat(descriptor, &info) != 0 || problem(with: info) != nil {
            close(descriptor)
            throw refuse(problem(with: info) ?? "not inspectable")
        }
        return descriptor
    }

    enum Contents {
        case missing
        /// The bytes, or `nil` when they could not be read or exceed the limit.
        case bytes([UInt8]?)
        /// Something that is not a state file of ours sits under the name.
        case refused(String)
    }

    /// Reads a whole file of ours, first tightening it to 0600 (a file left readable by
    /// an older version or a person is closed now, not at the next write).
    func read(_ name: String, limit: Int) throws(MobileMessagingError) -> Contents {
        guard let found = try entry(name) else { return .missing }
        if let problem = problem(with: found) { return .refused(problem) }
        let descriptor = openat(self.descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .stateUnavailable("cannot open \(path(of: name)): \(Self.lastError())")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_dev == found.st_dev, info.st_ino == found.st_ino else {
            throw .stateUnavailable("\(path(of: name)) was replaced while being opened; try again")
        }
        if info.st_mode & 0o7777 != 0o600 && fchmod(descriptor, 0o600) != 0 {
            throw .stateUnavailable("cannot make \(path(of: name)) owner-only (0600): \(Self.lastError())")
        }
        return .bytes(Self.readAll(descriptor, limit: limit))
    }

    /// Creates `name` for writing, 0600, exclusively: whatever is in the way (a stale
    /// file from a crash, or a link someone planted) is unlinked first, which removes the
    /// name, never what a link points to.
    func createExclusively(_ name: String) throws(MobileMessagingError) -> Int32 {
        if unlinkat(descriptor, name, 0) != 0 && errno != ENOENT {
            throw .stateUnavailable("cannot remove the stale \(path(of: name)): \(Self.lastError())")
        }
        let created = openat(descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard created >= 0 else { throw .stateUnavailable("cannot create \(path(of: name)): \(Self.lastError())") }
        // The umask may have taken bits away; the mode is exactly 0600.
        fchmod(created, 0o600)
        return created
    }

    /// Renames within the directory; the name replaced, if any, goes atomically.
    func rename(_ name: String, to newName: String) throws(MobileMessagingError) {
        guard renameat(descriptor, name, descriptor, newName) == 0 else {
            throw .stateUnavailable("cannot rename \(path(of: name)) to \(path(of: newName)): \(Self.lastError())")
        }
    }

    func remove(_ name: String) {
        unlinkat(descriptor, name, 0)
    }

    /// Moves `name` (whatever it is: a link or a FIFO moves as itself) to a free
    /// `<name>.corrupt-<now>[-n]` and returns the new path.
    func moveAside(_ name: String, now: Double) throws(MobileMessagingError) -> String {
        let base = "\(name).corrupt-\(Int(now))"
        var candidate = base
        var suffix = 1
        while try entry(candidate) != nil {
            suffix += 1
            candidate = "\(base)-\(suffix)"
        }
        guard renameat(descriptor, name, descriptor, candidate) == 0 else {
            throw .stateUnavailable("cannot move the unreadable \(path(of: name)) aside: \(Self.lastError())")
        }
        try sync()
        return path(of: candidate)
    }

    /// Makes the directory's entries (creations, renames) durable.
    func sync() throws(MobileMessagingError) {
        // EINVAL: a file system that cannot sync a directory; its renames are as durable
        // as it makes them, and refusing to work there would help no one.
        guard fsync(descriptor) == 0 || errno == EINVAL else {
            throw .stateUnavailable("cannot sync \(path): \(Self.lastError())")
        }
    }

    // MARK: - Creating it

    /// `mkdir -p`, mode 0700 for what it creates; what exists is checked by `init`.
    private static func create(_ path: String) throws(MobileMessagingError) {
        if mkdir(path, 0o700) == 0 {
            chmod(path, 0o700)  // the umask may have taken bits away
            return
        }
        switch errno {
        case EEXIST:
            return
        case ENOENT:
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { break }
            try create(String(path[..<slash]))
            if mkdir(path, 0o700) == 0 || errno == EEXIST {
                chmod(path, 0o700)
                return
            }
        default:
            break
        }
        throw .stateUnavailable("cannot create \(path): \(lastError())")
    }
}

// MARK: - POSIX helpers

extension StateDirectory {
    /// Reads a whole file from its start; `nil` on a read error or past `limit`.
    static func readAll(_ descriptor: Int32, limit: Int) -> [UInt8]? {
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
    static func writeAll(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>, at offset: off_t? = nil) -> Bool {
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

    static func describe(type: mode_t) -> String {
        switch type {
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "of an unknown type"
        }
    }

    static func lastError() -> String { describe(errno) }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}
