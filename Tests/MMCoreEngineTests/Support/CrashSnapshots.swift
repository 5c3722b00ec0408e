#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@testable import MMCoreEngine

/// What a `kill -9` at each step of a write would leave: at every step the writer
/// reports, the state directory's files are copied aside (a process killed there
/// leaves exactly those bytes; the kernel's page cache keeps what was written).
///
/// Power loss cannot be simulated in a test; the sync counts cover that side.
final class CrashSnapshots: Sendable {
    private struct Snapshot: Sendable {
        let step: StateStore.WriteStep
        let directory: String
    }

    private let taken = Locked<[Snapshot]>([])
    private let source: String
    private let scratch: TemporaryDirectory

    /// Snapshots of `source` (the state directory), kept under `scratch`.
    init(of source: String, in scratch: TemporaryDirectory) {
        self.source = source
        self.scratch = scratch
    }

    var steps: [StateStore.WriteStep] { taken.current.map(\.step) }

    func record(_ step: StateStore.WriteStep) {
        taken.withLock { taken in
            let copy = scratch.path + "/after-\(taken.count)-\(step.rawValue)"
            mkdir(copy, 0o700)
            // The lock is left out: the killed process's lock dies with it.
            for name in listDirectory(source) where name != "state.lock" {
                guard PathInfo(source + "/" + name)?.isRegularFile == true, let bytes = readFile(source + "/" + name) else { continue }
                writeBytes(copy + "/" + name, bytes)
            }
            taken.append(Snapshot(step: step, directory: copy))
        }
    }

    /// For every snapshot, what a restarted process finds: `nil` if it loads `old` or
    /// `new` and can write again afterwards, else what went wrong.
    func problems(old: PersistedState, new: PersistedState) -> [String] {
        taken.current.compactMap { snapshot in
            Self.problem(in: snapshot.directory, old: old, new: new).map { "after \(snapshot.step.rawValue): \($0)" }
        }
    }

    private static func problem(in directory: String, old: PersistedState, new: PersistedState) -> String? {
        do throws(MobileMessagingError) {
            let store = try StateStore(directory: directory)
            let loaded = try store.load(now: 0)
            guard loaded == old || loaded == new else { return "a state that is neither the old nor the new one" }
            // A restarted process must get past whatever the killed one left behind.
            var next = new
            next.applicationCode = "after-restart"
            try store.save(next, includeUser: true)
            guard try store.load(now: 0) == next else { return "the next write after a restart did not stick" }
            let left = listDirectory(directory)
            guard left == ["state.json", "state.lock"] else { return "files left behind: \(left)" }
            return nil
        } catch {
            return "\(error.code): \(error.description)"
        }
    }
}

/// A writer that overwrites the state file in place, reporting the same steps as the
/// store: what the crash check must catch.
func writeInPlace(_ state: PersistedState, to path: String, reporting step: (StateStore.WriteStep) -> Void) {
    var bytes = state.json(includeUser: true).serializedBytes
    bytes.append(0x0A)
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(descriptor >= 0)
    defer { close(descriptor) }
    step(.temporaryCreated)
    let half = bytes.count / 2
    _ = bytes[..<half].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    step(.partlyWritten)
    _ = bytes[half...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    step(.written)
    fsync(descriptor)
    step(.temporarySynced)
}
