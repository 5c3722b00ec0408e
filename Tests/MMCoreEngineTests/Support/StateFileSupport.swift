import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@testable import MMCoreEngine

// Helpers for the tests that turn the state directory against its owner: links,
// FIFOs, foreign owners, loose modes.

/// What `lstat` says about a path (the link itself, not its target).
struct PathInfo: Equatable {
    let type: mode_t
    let mode: mode_t
    let owner: uid_t

    init?(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        type = info.st_mode & S_IFMT
        mode = info.st_mode & 0o7777
        owner = info.st_uid
    }

    var isSymbolicLink: Bool { type == S_IFLNK }
    var isFIFO: Bool { type == S_IFIFO }
    var isDirectory: Bool { type == S_IFDIR }
    var isRegularFile: Bool { type == S_IFREG }
}

/// A file outside the state directory that a planted link points at; the store must
/// leave it exactly as it was.
struct VictimFile {
    let path: String
    let content: String
    let mode: mode_t

    init(in directory: TemporaryDirectory, content: String = "precious, not mmcore's\n", mode: mode_t = 0o644) {
        path = directory.path + "/victim"
        self.content = content
        self.mode = mode
        writeFile(path, content)
        chmod(path, mode)
    }

    var isUntouched: Bool {
        readFile(path) == Array(content.utf8) && PathInfo(path)?.mode == mode && PathInfo(path)?.isRegularFile == true
    }
}

/// Creates the state directory itself (the store then finds it existing), with `mode`.
func makeStateDirectory(_ directory: TemporaryDirectory, mode: mode_t = 0o700) {
    mkdir(directory.stateDirectory, 0o700)
    chmod(directory.stateDirectory, mode)
}

func writeBytes(_ path: String, _ bytes: [UInt8]) {
    guard let file = fopen(path, "wb") else { return }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

func makeSymbolicLink(at path: String, to target: String) {
    precondition(symlink(target, path) == 0, "symlink failed")
}

func makeFIFO(at path: String) {
    precondition(mkfifo(path, 0o600) == 0, "mkfifo failed")
}

/// The outcome of a blocking call run on a thread of its own, awaited without holding a
/// thread of the cooperative pool.
final class ThreadOutcome<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: (token: Int, continuation: CheckedContinuation<Value?, Never>)?
        var tokens = 0
        /// Deadlines that passed before their wait began.
        var expired: Set<Int> = []
    }

    private let state = Locked(State())

    func finish(_ value: Value) {
        let waiter = state.withLock { state in
            state.value = value
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: value)
    }

    /// The value if the call finished within `timeout`, else `nil`. One wait at a time.
    func value(within timeout: Duration) async -> Value? {
        let token = state.withLock { state in
            state.tokens += 1
            return state.tokens
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(token)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready: Value?? = state.withLock { state in
                if let value = state.value { return .some(value) }
                if state.expired.remove(token) != nil { return .some(nil) }
                state.waiter = (token, continuation)
                return .none
            }
            if case .some(let value) = ready { continuation.resume(returning: value) }
        }
    }

    private func expire(_ token: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            guard let waiter = state.waiter, waiter.token == token else {
                state.expired.insert(token)
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: nil)
    }
}

/// Runs `body` on a thread of its own and waits at most `seconds` for it, so a call
/// that blocks forever (an `open` on a FIFO) fails the test instead of hanging it, and
/// the wait holds no thread other tests need. After a timeout, `rescue` is run to
/// unblock the thread (and the result is dropped).
func runBounded<Value: Sendable>(
    seconds: Double, rescue: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () -> Value
) async -> Value? {
    let outcome = ThreadOutcome<Value>()
    Thread { outcome.finish(body()) }.start()
    if let value = await outcome.value(within: .seconds(seconds)) { return value }
    rescue()
    _ = await outcome.value(within: .seconds(30))
    return nil
}

/// Unblocks a reader stuck opening the FIFO at `path` (a writer appears and leaves).
func releaseFIFOReader(_ path: String) {
    let descriptor = open(path, O_WRONLY | O_NONBLOCK)
    if descriptor >= 0 { close(descriptor) }
}

/// A load result that crosses threads.
enum LoadOutcome: Sendable {
    case loaded(PersistedState)
    case failed(MobileMessagingError)

    init(_ store: StateStore, now: Double) {
        do throws(MobileMessagingError) {
            self = .loaded(try store.load(now: now))
        } catch {
            self = .failed(error)
        }
    }

    var error: MobileMessagingError? {
        if case .failed(let error) = self { error } else { nil }
    }
}
