/// The one isolation domain of the engine: the session and every part it is made of run
/// here, one step at a time, as the native SDKs' work runs on their serial queues.
///
/// One domain for all parts means a part calls another synchronously, with no hop and
/// no interleaving between a read and the write that depends on it; only awaiting the
/// network (or the wrapper) lets other work in. Several sessions in one process share
/// it: their work is a few microseconds of bookkeeping around network waits.
@globalActor
public actor EngineActor {
    public static let shared = EngineActor()
}
