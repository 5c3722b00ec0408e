import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every long-lived child the test helpers spawn (`mmserver serve`, `mmcore`), so that
/// none outlives the test process.
///
/// Helpers stop their children themselves; this is the last line for the ones a test
/// never got to stop (a failure or a time-out between start and stop, a cleanup task
/// that had not run yet when the process exited): at `exit` each still registered child
/// gets SIGKILL. A child leaves the registry once Foundation has reaped it, so a pid
/// the system has reused for another process is never signalled.
enum ChildProcesses {
    private static let running = Mutex<Set<Int32>>([])

    /// Installs the exit hook once, on first use.
    private static let exitHook: Void = {
        atexit { ChildProcesses.killAll() }
    }()

    /// Call right after `process.run()`; the termination handler must call ``exited(_:)``.
    static func started(_ process: Process) {
        _ = exitHook
        let pid = process.processIdentifier
        running.withLock { _ = $0.insert(pid) }
        // The child may have been reaped (and its handler run) before it was inserted.
        if !process.isRunning { exited(pid) }
    }

    static func exited(_ pid: Int32) {
        running.withLock { _ = $0.remove(pid) }
    }

    /// The children not yet reaped (for tests of the helpers themselves).
    static var pids: Set<Int32> { running.withLock { $0 } }

    /// SIGKILL to every registered child: no grace, since the process is exiting and
    /// cannot wait. mmserver's SQLite file survives a kill; mmcore's state writes are
    /// crash-safe by design.
    static func killAll() {
        let pids = running.withLock { pids in
            defer { pids.removeAll() }
            return pids
        }
        for pid in pids { kill(pid, SIGKILL) }
    }
}
