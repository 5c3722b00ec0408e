import Synchronization

/// Lines arriving from a reader, handed out one at a time, each wait bounded by a
/// deadline: the client's end of a connection under test, or a child process's stdout.
///
/// ``push(_:)`` and ``end()`` neither block nor suspend, so a reader thread calls them
/// directly; ``next(timeout:)`` suspends its task without holding a thread, and its
/// deadline is a timer task, so a test that waits for a line that never comes fails on
/// its own instead of holding one of the cooperative pool's few threads.
public final class LineQueue: Sendable {
    private struct Waiter {
        let token: Int
        let continuation: CheckedContinuation<[UInt8]?, any Error>
    }

    private struct State {
        var lines: [[UInt8]] = []
        var head = 0
        var ended = false
        /// Waits in the order they began; each line goes to the oldest.
        var waiters: [Waiter] = []
        var tokens = 0
        /// Deadlines that passed before their wait began.
        var expired: Set<Int> = []

        mutating func takeLine() -> [UInt8]? {
            guard head < lines.count else { return nil }
            defer {
                head += 1
                if head > 1024, head * 2 > lines.count {
                    lines.removeFirst(head)
                    head = 0
                }
            }
            return lines[head]
        }
    }

    private let state = Mutex(State())

    public init() {}

    public func push(_ line: [UInt8]) {
        let waiting: Waiter? = state.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.lines.append(line)
            return nil
        }
        waiting?.continuation.resume(returning: line)
    }

    /// The source ended: once the lines pushed so far are handed out, ``next(timeout:)``
    /// returns `nil`.
    public func end() {
        let waiting: [Waiter] = state.withLock { state in
            state.ended = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiting { waiter.continuation.resume(returning: nil) }
    }

    /// The next line; `nil` when the source ended and every line was handed out. Throws
    /// ``LineTimeout`` when no line came within `timeout`.
    public func next(timeout: Duration) async throws -> [UInt8]? {
        let token = state.withLock { state in
            state.tokens += 1
            return state.tokens
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(token, timeout: timeout)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let ready: Result<[UInt8]?, any Error>? = state.withLock { state in
                if let line = state.takeLine() { return .success(line) }
                if state.ended { return .success(nil) }
                if state.expired.remove(token) != nil { return .failure(LineTimeout(timeout: timeout)) }
                state.waiters.append(Waiter(token: token, continuation: continuation))
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func expire(_ token: Int, timeout: Duration) {
        let waiting: Waiter? = state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.token == token }) else {
                state.expired.insert(token)
                return nil
            }
            return state.waiters.remove(at: index)
        }
        waiting?.continuation.resume(throwing: LineTimeout(timeout: timeout))
    }
}

/// No line arrived within the time a test allowed.
public struct LineTimeout: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "no line within \(timeout)" }
}
