import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open cores by handle, and the state directories they hold.
///
/// Handles are numbers, never reused, rather than pointers: a closed or made-up handle
/// is looked up and refused, never dereferenced.
enum OpenCores {
    private struct Table {
        var nextHandle: UInt64 = 1
        var cores: [UInt64: (core: EmbeddedCore, directory: String)] = [:]
        /// Held from open until close has finished (the state lock is released then).
        var directories: Set<String> = []
    }

    /// Serializes every access to `table` (a short, non-blocking critical section).
    private static let lock = DispatchQueue(label: "mmcore.open-cores")
    // nonisolated(unsafe): read and written only inside `lock.sync`.
    nonisolated(unsafe) private static var table = Table()

    enum OpenError: Error {
        case directoryInUse
    }

    /// Reserves `directory` and registers the core `make` builds for the new handle.
    static func open(directory: String, _ make: () -> EmbeddedCore) throws(OpenError) -> UInt64 {
        let key = canonical(directory)
        let handle: UInt64? = lock.sync {
            guard !table.directories.contains(key) else { return nil }
            table.directories.insert(key)
            defer { table.nextHandle += 1 }
            return table.nextHandle
        }
        guard let handle else { throw .directoryInUse }
        let core = make()
        lock.sync { table.cores[handle] = (core, key) }
        return handle
    }

    static func core(_ handle: UInt64) -> EmbeddedCore? {
        lock.sync { table.cores[handle]?.core }
    }

    /// Takes the core out of the table (later calls with its handle are refused), closes
    /// it, then frees its state directory. `false` when no open core has the handle.
    static func close(_ handle: UInt64) -> Bool {
        guard let entry = lock.sync(execute: { table.cores.removeValue(forKey: handle) }) else { return false }
        entry.core.close()
        _ = lock.sync { table.directories.remove(entry.directory) }
        return true
    }

    /// The same directory however it is spelled, when it exists; else the path as given,
    /// without trailing slashes (the core creates it at `init`, and its file lock still
    /// refuses a second core with STATE_LOCKED).
    static func canonical(_ directory: String) -> String {
        if let resolved = realpath(directory, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        var trimmed = directory
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }
}
