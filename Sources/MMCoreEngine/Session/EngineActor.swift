/// The one isolation domain of the engine: the session and every part it is made of run
/// here, one step at a time, as the native SDKs' work runs on their serial queues.
///
/// One domain for all parts means a part calls another synchronously, with no hop and
/// no interleaving between a read and the write that depends on it; only awaiting the
/// network (or the wrapper) lets other work in. It runs on the shared pool, like the
/// session actor it replaces: a serial queue of its own cost every call a thread hand-off
/// (the `getUser` round trip 10 -> 17 us, pipelined throughput a third, measured by
/// `benchmarks/run --versus`). Several sessions in one process share it: their work is
/// bookkeeping around network waits.
@globalActor
public actor EngineActor {
    public static let shared = EngineActor()
}
