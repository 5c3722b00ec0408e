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
public final class MessageWriter: Sendable {
    private struct State: Sendable {
        var pending: [UInt8] = []
        var draining = false
        var closed = false
    }

    private let fileDescriptor: Int32
    private let state = Locked(State())
    private let queue = DispatchQueue(label: "jsonrpc.writer")
    private let onClosed: @Sendable () -> Void

    public init(fileDescriptor: Int32, onClosed: @escaping @Sendable () -> Void = {}) {
        self.fileDescriptor = fileDescriptor
        self.onClosed = onClosed
    }

    /// Queues one message: `message` is its JSON without the newline (added here).
    public func send(_ message: [UInt8]) {
        let startDrain = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.pending.append(contentsOf: message)
            state.pending.append(UInt8(ascii: "\n"))
            defer { state.draining = true }
            return !state.draining
        }
        if startDrain { queue.async { self.drain() } }
    }

    /// Returns once everything sent before the call has been written (or dropped
    /// because the client is gone).
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // A drain in progress runs ahead of this block on the serial queue and does not
            // return until the buffer is empty.
            queue.async { continuation.resume() }
        }
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    private func drain() {
        while true {
            let chunk = state.withLock { state -> [UInt8]? in
                if state.pending.isEmpty || state.closed {
                    state.draining = false
                    state.pending = []
                    return nil
                }
                defer { state.pending = [] }
                return state.pending
            }
            guard let chunk else { return }
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
