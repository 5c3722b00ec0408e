import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The test's end of a pipe into a reader that may stop reading (a connection at its
/// in-flight limit, a child process that is stuck or slow).
///
/// What fits in the pipe is written at once, so after ``write(_:)`` returns a reader
/// that is reading has the bytes as before; the rest is written, in order, from a
/// thread of its own. The caller never blocks: a test blocked in write(2) would hold one
/// of the few threads of Swift's cooperative pool, and stall every other test in the
/// process with it. Not a dispatch queue either: a drain can wait as long as a test
/// keeps its reader stuck, and libdispatch's few worker threads also deliver the
/// in-process core's callbacks.
public final class PipeWriter: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private struct State {
        /// Bytes accepted but not yet written (only while `draining`).
        var pending: [UInt8] = []
        var draining = false
        var closeWhenDrained = false
        var closed = false
        var failure: Failure?
    }

    private let descriptor: Int32
    private let state = Mutex(State())

    /// Takes ownership of `descriptor` (closed by ``close()``) and makes it non-blocking.
    public init(descriptor: Int32) {
        _ = Self.ignoreBrokenPipe
        self.descriptor = descriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// A reader that went away is an error to report (EPIPE), not a signal that ends the
    /// test process.
    private static let ignoreBrokenPipe: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Writes `bytes` after everything written before; throws if the pipe was closed or a
    /// write failed (the reader went away).
    public func write(_ bytes: [UInt8]) throws(Failure) {
        let startDrain: Bool = try state.withLock { state throws(Failure) in
            if let failure = state.failure { throw failure }
            if state.closed || state.closeWhenDrained { throw Failure(description: "write after close") }
            if state.draining {
                state.pending += bytes
                return false
            }
            var offset = 0
            while offset < bytes.count {
                switch writeSome(bytes, from: offset) {
                case .wrote(let count): offset += count
                case .full:
                    state.pending = Array(bytes[offset...])
                    state.draining = true
                    return true
                case .failed(let failure):
                    state.failure = failure
                    throw failure
                }
            }
            return false
        }
        if startDrain { Thread { self.drain() }.start() }
    }

    /// Closes the pipe (end of input for the reader) once everything written before has
    /// gone; at once when nothing is pending. Later calls do nothing.
    public func close() {
        state.withLock { state in
            guard !state.closed else { return }
            if state.draining {
                state.closeWhenDrained = true
            } else {
                state.closed = true
                _ = closeDescriptor(descriptor)
            }
        }
    }

    private enum Step {
        case wrote(Int)
        case full
        case failed(Failure)
    }

    private func writeSome(_ bytes: [UInt8], from offset: Int) -> Step {
        while true {
            let written = bytes[offset...].withUnsafeBytes { writeDescriptor(descriptor, $0.baseAddress, $0.count) }
            if written > 0 { return .wrote(written) }
            let code = errno
            if written < 0, code == EINTR { continue }
            if written < 0, code == EAGAIN || code == EWOULDBLOCK { return .full }
            return .failed(Failure(description: "write to the pipe failed: errno \(code)"))
        }
    }

    /// Off the caller's thread: waits until the pipe has room and writes what is pending.
    private func drain() {
        while true {
            var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, 100)
            let done: Bool = state.withLock { state in
                var offset = 0
                loop: while offset < state.pending.count {
                    switch writeSome(state.pending, from: offset) {
                    case .wrote(let count): offset += count
                    case .full: break loop
                    case .failed(let failure):
                        state.failure = failure
                        offset = state.pending.count
                    }
                }
                state.pending.removeFirst(offset)
                guard state.pending.isEmpty else { return false }
                state.draining = false
                if state.closeWhenDrained {
                    state.closed = true
                    _ = closeDescriptor(descriptor)
                }
                return true
            }
            if done { return }
        }
    }
}

private func writeDescriptor(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
