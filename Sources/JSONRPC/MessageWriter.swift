import Synchronization
import Dispatch

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one writer of the output descriptor: whole lines, never interleaved, batched.
///
/// `send` appends a complete line to a buffer under a lock and returns at once; a serial
/// dispatch queue (not the Swift concurrency pool, since `write(2)` can block on a full
/// pipe) drains the buffer, writing everything that is ready in as few system calls as
/// possible. When the client is gone (`EPIPE` or another write error) the writer drops
/// everything from then on and calls `onClosed` once.
///
/// The one exception is the common case of a quiet connection: when nothing is pending
/// or being written, the line is short (at most `PIPE_BUF` bytes) and the descriptor
/// polls writable, `send` writes it itself. A pipe that polls writable takes such a line
/// whole without blocking, and this saves waking the queue's thread for every answer,
/// which was most of a round trip's cost beyond the pipe itself.
///
/// While the writer is held (``hold()``), `send` only queues: the connection holds it
/// while it handles the lines of one read, so their answers leave in one write instead of
/// a `poll` and a `writev` each (most of the pipelined benchmark's system time).
public final class MessageWriter: Sendable {
    private struct State: Sendable {
        var pending: [UInt8] = []
        /// A line is being written by `send` or the queue drains: nobody else may write.
        var draining = false
        var closed = false
        /// Holders (``hold()`` calls not yet released): while any, `send` only queues.
        var holds = 0
        /// `flush` callers waiting for the writer to become idle.
        var flushWaiters: [CheckedContinuation<Void, Never>] = []

        /// Nothing pending, nothing being written: returns the flush waiters to resume.
        mutating func becomeIdle() -> [CheckedContinuation<Void, Never>] {
            draining = false
            pending = []
            defer { flushWaiters = [] }
            return flushWaiters
        }
    }

    private let fileDescriptor: Int32
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "jsonrpc.writer")
    private let onClosed: @Sendable () -> Void

    public init(fileDescriptor: Int32, onClosed: @escaping @Sendable () -> Void = {}) {
        self.fileDescriptor = fileDescriptor
        self.onClosed = onClosed
    }

    /// Queues one message: `message` is its JSON without the newline (added here).
    public func send(_ message: [UInt8]) {
        enum Next { case nothing, drain, writeHere }
        let next = state.withLock { state -> Next in
            guard !state.closed else { return .nothing }
            if state.holds > 0 {
                state.pending.append(contentsOf: message)
                state.pending.append(UInt8(ascii: "\n"))
                return .nothing
            }
            if !state.draining && message.count < Self.directWriteLimit {
                state.draining = true  // keeps order: later lines queue behind this one
                return .writeHere
            }
            state.pending.append(contentsOf: message)
            state.pending.append(UInt8(ascii: "\n"))
            defer { state.draining = true }
            return state.draining ? .nothing : .drain
        }
        switch next {
        case .nothing: return
        case .drain: queue.async { self.drain() }
        case .writeHere: writeHere(message, newline: true)
        }
    }

    /// Queues one message that `write` appends (its JSON without the newline). When the
    /// writer is held or busy it is serialized straight into the queued output, which
    /// saves an array per message, grown and copied once more; otherwise as ``send(_:)``.
    public func send(writing write: (inout [UInt8]) -> Void) {
        let queued = state.withLock { state -> Bool in
            if state.closed { return true }  // dropped, as send(_:) drops it
            guard state.holds > 0 || state.draining else { return false }
            // Whoever holds or drains writes it: the drain loop, a direct write's hand-over
            // to the queue, or the last releaseHold().
            write(&state.pending)
            state.pending.append(UInt8(ascii: "\n"))
            return true
        }
        guard !queued else { return }
        var message: [UInt8] = []
        write(&message)
        send(message)
    }

    /// Holds what is sent from now on until the matching ``releaseHold()``.
    public func hold() {
        state.withLock { $0.holds += 1 }
    }

    /// Ends a ``hold()``: the last holder writes what was queued meanwhile (itself when it
    /// is short and the descriptor can take it now, else through the queue).
    public func releaseHold() {
        enum Next { case nothing, drain, writeHere([UInt8]) }
        let next = state.withLock { state -> Next in
            state.holds -= 1
            guard state.holds == 0, !state.closed, !state.draining, !state.pending.isEmpty else { return .nothing }
            state.draining = true
            guard state.pending.count <= Self.directWriteLimit else { return .drain }
            defer { state.pending = [] }
            return .writeHere(state.pending)
        }
        switch next {
        case .nothing: return
        case .drain: queue.async { self.drain() }
        case .writeHere(let bytes): writeHere(bytes, newline: false)
        }
    }

    /// Lines up to this size (newline included) may be written by `send` itself.
    private static let directWriteLimit = Int(PIPE_BUF)

    /// Writes `message` (plus a newline when `newline`, as one line) without blocking
    /// when the descriptor can take it now; otherwise, or for what arrived meanwhile,
    /// hands over to the queue. The caller has set `draining`.
    private func writeHere(_ message: [UInt8], newline: Bool) {
        var poller = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
        let writable = poll(&poller, 1, 0) == 1 && poller.revents & Int16(POLLOUT) != 0
        let total = message.count + (newline ? 1 : 0)
        var written = 0
        if writable {
            var newlineByte = UInt8(ascii: "\n")
            written = message.withUnsafeBytes { body in
                withUnsafeMutablePointer(to: &newlineByte) { newlineByte in
                    withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2) { vectors in
                        vectors[0] = iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
                        vectors[1] = iovec(iov_base: UnsafeMutableRawPointer(newlineByte), iov_len: newline ? 1 : 0)
                        let result = writev(fileDescriptor, vectors.baseAddress, 2)
                        return result < 0 ? 0 : result  // EINTR, EAGAIN, EPIPE: the queue retries and decides
                    }
                }
            }
        }
        let (startDrain, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
            if written < total && !state.closed {
                var rest = Array(message[min(written, message.count)...])
                if newline { rest.append(UInt8(ascii: "\n")) }
                state.pending.insert(contentsOf: rest, at: 0)
            }
            if state.pending.isEmpty || state.closed {
                return (false, state.becomeIdle())
            }
            return (true, [])
        }
        waiters.forEach { $0.resume() }
        if startDrain { queue.async { self.drain() } }
    }

    /// Returns once everything sent before the call has been written (or dropped
    /// because the client is gone).
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Idle means everything sent so far is written; else whoever makes the writer
            // idle (the drain, or a direct write that needed no help) resumes us.
            let idle = state.withLock { state -> Bool in
                if state.draining {
                    state.flushWaiters.append(continuation)
                    return false
                }
                return true
            }
            if idle { continuation.resume() }
        }
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    private func drain() {
        while true {
            let (chunk, waiters) = state.withLock { state -> ([UInt8]?, [CheckedContinuation<Void, Never>]) in
                if state.pending.isEmpty || state.closed {
                    return (nil, state.becomeIdle())
                }
                defer { state.pending = [] }
                return (state.pending, [])
            }
            guard let chunk else {
                waiters.forEach { $0.resume() }
                return
            }
            if !writeAll(chunk) {
                state.withLock { $0.closed = true }
                onClosed()
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written >= 0 {
                    offset += written
                    continue
                }
                switch errno {
                case EINTR:
                    continue
                case EAGAIN, EWOULDBLOCK:
                    // The descriptor was handed to us non-blocking: wait until it can take more.
                    var poller = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&poller, 1, -1)
                default:
                    return false  // EPIPE: the client closed its end; anything else: same outcome.
                }
            }
            return true
        }
    }
}
