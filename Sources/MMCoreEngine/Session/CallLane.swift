/// Runs calls one at a time, in the order they were admitted: the native SDKs' serial
/// operation queue.
///
/// ``admit(_:)`` is synchronous, so order is decided when a call is admitted, not when a
/// task happens to start. It returns the call's job; whoever runs the job (the
/// connection, in the one task it starts per request) waits there for the job admitted
/// before it to finish, whatever its outcome. A job holds the lane while it awaits the
/// network; that is the point: each call sees what the previous one left.
///
/// The lane also decides staleness: every job carries the generation it was admitted
/// in, and a job whose turn comes after ``startGeneration()`` (a `cleanup`, an `init`
/// for another application, a shutdown) is not run but fails with `NOT_INITIALIZED`.
@EngineActor
final class CallLane {
    /// Completes when the last admitted job has finished.
    private var tail: Turn?
    private(set) var generation = 0

    nonisolated init() {}

    /// Work admitted from now on belongs to a new generation; earlier work is stale.
    func startGeneration() { generation += 1 }

    /// The job that runs `body` after every job admitted before it. The caller must run
    /// the job (once): the lane waits for it.
    func admit<T: Sendable>(_ method: String, _ body: @escaping @EngineActor () async throws -> T)
        -> @EngineActor @Sendable () async throws -> T
    {
        let previous = tail
        let turn = Turn()
        tail = turn
        let admitted = generation
        return { [self] in
            await previous?.finished()
            defer { turn.finish() }
            guard admitted == generation else { throw MobileMessagingError.stoppedBeforeRunning(method) }
            return try await body()
        }
    }

    /// Queues background work (a retry pass, a base URL check) behind every call
    /// admitted so far, in a task of its own; stale work is skipped.
    func admitBackground(_ name: String, _ body: @escaping @EngineActor () async -> Void) {
        let job = admit(name, body)
        Task { try? await job() }
    }

    /// Waits until every job admitted so far has finished.
    func drained() async {
        await tail?.finished()
    }

    /// The end of one job, awaited by the next.
    @EngineActor
    private final class Turn {
        private var isFinished = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        func finish() {
            isFinished = true
            let waiting = waiters
            waiters = []
            for waiter in waiting { waiter.resume() }
        }

        func finished() async {
            guard !isFinished else { return }
            await withCheckedContinuation { waiters.append($0) }
        }
    }
}

extension MobileMessagingError {
    /// A call admitted before `cleanup` (or an `init` for another application) that had
    /// not run yet: it is not sent.
    static func stoppedBeforeRunning(_ method: String) -> MobileMessagingError {
        MobileMessagingError(
            .notInitialized,
            description: "\(method) was not sent: the session was cleaned up or initialized for another application before its turn.")
    }
}
