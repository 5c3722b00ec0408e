import Dispatch

/// The one isolation domain of the engine: the session and every part it is made of run
/// here, one step at a time, as the native SDKs' work runs on their serial queues.
///
/// One domain for all parts means a part calls another synchronously, with no hop and
/// no interleaving between a read and the write that depends on it; only awaiting the
/// network (or the wrapper) lets other work in. It runs on a serial queue of its own,
/// not on the shared pool: the engine's writes wait for the disk (`fsync`), and a pool of
/// two threads must not wait with them (on the shared pool, the whole test suite's
/// in-process C-interface cores went without an answer for 10 s). The price is a thread
/// hand-off per call (docs/benchmarks.md, "The engine's restructuring"). Several sessions
/// in one process share it: their work is bookkeeping around network waits.
@globalActor
public actor EngineActor {
    public static let shared = EngineActor()

    private let executor = EngineExecutor()

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }
}

/// Runs the engine's jobs one at a time on a serial dispatch queue of their own.
final class EngineExecutor: SerialExecutor {
    private let queue = DispatchQueue(label: "mmcore.engine")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}
