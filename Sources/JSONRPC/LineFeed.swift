import Synchronization
/// Input handed to a ``Connection`` by calls instead of read from a descriptor: the
/// in-process transport (a host library's "here are some bytes" function).
///
/// The bytes go through the same ``LineFramer`` and the same limits as stdin, and the
/// same backpressure: ``feed(_:)`` frames them on the caller's thread and, like the
/// reader thread, waits before queuing a line while the connection has
/// `maxMessagesInFlight` messages unanswered. The lines of one feed are handed on
/// together, as those of one `read(2)` are. The caller's thread is blocked then, as a
/// writer to a full pipe would be. Lines may be split across calls in any way.
public final class LineFeed: Sendable {
    private struct State: Sendable {
        var framer: LineFramer
        var ended = false
    }

    let batches: AsyncStream<[LineEvent]>
    let inFlight: InFlightLimit
    private let continuation: AsyncStream<[LineEvent]>.Continuation
    /// Held for a whole `feed`: the lines of one call stay together and in order even
    /// when several threads feed at once.
    private let state: Mutex<State>
    private let stopped = Mutex(false)

    /// Takes `maxLineBytes` and `maxMessagesInFlight` from `options`; hand the same
    /// options to ``Connection/init(input:output:options:logger:)``.
    public init(options: Connection.Options = Connection.Options()) {
        // Unbounded buffering: the bound is the limit's, as for the reader thread.
        (batches, continuation) = AsyncStream.makeStream(of: [LineEvent].self, bufferingPolicy: .unbounded)
        inFlight = InFlightLimit(limit: options.maxMessagesInFlight)
        state = Mutex(State(framer: LineFramer(maxLineBytes: options.maxLineBytes)))
    }

    /// Frames `bytes` and queues every line they complete, first waiting (blocking the
    /// calling thread) while the connection has its limit of messages in flight.
    ///
    /// - Returns: `false` when the input has already ended (``finish()``, or the
    ///   connection stopped): the bytes, or those not yet queued, were dropped.
    @discardableResult
    public func feed(_ bytes: some Collection<UInt8>) -> Bool {
        state.withLock { state in
            guard !state.ended, !isStopped else { return false }
            return hand(state.framer.append(bytes))
        }
    }

    /// Queues `events` in batches of as many as there are free slots, waiting for more as
    /// needed (the reader thread's rule). `false` once the connection stopped.
    private func hand(_ events: [LineEvent]) -> Bool {
        var start = 0
        while start < events.count {
            let granted = inFlight.acquire(upTo: events.count - start)
            guard granted > 0 else { return false }  // stopped while waiting
            if case .terminated = continuation.yield(Array(events[start..<(start + granted)])) { return false }
            start += granted
        }
        return true
    }

    /// Ends the input, as closing stdin does: an unterminated last line is still a line,
    /// and the connection winds down once it has handled everything queued. Waits for a
    /// ``feed(_:)`` in progress on another thread. Later calls do nothing.
    public func finish() {
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            _ = hand(state.framer.finish())
            continuation.finish()
        }
    }
}

extension LineFeed: LineInput {
    /// Nothing to start: lines arrive through ``feed(_:)``, and those fed before the
    /// connection serves wait in the stream (bounded by the limit).
    func start() {}

    /// Ends the events now, waking a ``feed(_:)`` that waits for the limit; lines queued
    /// but not consumed are dropped. For ``Connection/shutdown()``.
    func stop() {
        stopped.withLock { $0 = true }
        inFlight.close()
        continuation.finish()
    }

    var isStopped: Bool { stopped.withLock { $0 } }
}
