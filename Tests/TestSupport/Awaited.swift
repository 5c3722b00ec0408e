import Synchronization

/// A value recorded once (how a child process ended, what a blocking call on a thread
/// of its own returned) and awaited with a deadline, without holding a thread.
///
/// `Process.waitUntilExit()` or a semaphore would block the calling thread, and a test
/// doing that from async code holds one of the cooperative pool's threads (two on a
/// two-core machine) and stalls every other test in the process.
public final class Awaited<Outcome: Sendable>: Sendable {
    private struct Waiter {
        let token: Int
        let continuation: CheckedContinuation<Outcome?, Never>
    }

    private struct State {
        var outcome: Outcome?
        var waiters: [Waiter] = []
        var tokens = 0
        /// Deadlines that passed before their wait began.
        var expired: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The end, once recorded.
    public var outcome: Outcome? { state.withLock { $0.outcome } }

    /// Records the end (from the termination handler) and wakes the waiters.
    public func record(_ outcome: Outcome) {
        let waiters = state.withLock { state in
            state.outcome = outcome
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(returning: outcome) }
    }

    /// The end, or `nil` if it did not come within `timeout`.
    public func wait(timeout: Duration) async -> Outcome? {
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
            let done: Outcome?? = state.withLock { state in
                if let outcome = state.outcome { return .some(outcome) }
                if state.expired.remove(token) != nil { return .some(nil) }
                state.waiters.append(Waiter(token: token, continuation: continuation))
                return .none
            }
            if case .some(let done) = done { continuation.resume(returning: done) }
        }
    }

    private func expire(_ token: Int) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.token == token }) else {
                state.expired.insert(token)
                return nil
            }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(returning: nil)
    }
}
