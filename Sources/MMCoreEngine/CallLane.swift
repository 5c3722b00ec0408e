/// Runs jobs one at a time, in the order they were admitted: the native SDKs' serial
/// operation queue.
///
/// Each job's task waits for the one admitted before it to finish (whatever its outcome)
/// and then runs, so order is decided by the synchronous ``admit(_:)`` call, not by which
/// task the scheduler happens to start first. A job holds the lane while it awaits the
/// network; that is the point: each call sees what the previous one left.
struct CallLane {
    /// Completes when the last admitted job has finished.
    private var tail: (@Sendable () async -> Void)?
    /// Jobs admitted and not finished, for shutdown.
    private(set) var admittedCount = 0

    /// Queues `job` behind every job admitted before it; the task answers its result.
    mutating func admit<T: Sendable>(_ job: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
        let previous = tail
        let task = Task<T, any Error> {
            await previous?()
            return try await job()
        }
        tail = { _ = try? await task.value }
        return task
    }

    /// Waits until every job admitted so far has finished.
    func drained() async {
        await tail?()
    }
}
