import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

import TestSupport

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

/// Runs `body` on a thread of its own and waits at most `seconds` for it, so a call
/// that blocks forever (an `open` on a FIFO) fails the test instead of hanging it, and
/// the wait holds no thread other tests need. After a timeout, `rescue` is run to
/// unblock the thread (and the result is dropped).
func runBounded<Value: Sendable>(
    seconds: Double, rescue: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () -> Value
) async -> Value? {
    let outcome = Awaited<Value>()
    Thread { outcome.record(body()) }.start()
    if let value = await outcome.wait(timeout: .seconds(seconds)) { return value }
    rescue()
    _ = await outcome.wait(timeout: .seconds(30))
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
