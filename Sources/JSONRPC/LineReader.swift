#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads lines from a file descriptor on a dedicated thread and delivers them as an
/// `AsyncStream`.
///
/// The thread sits in a blocking `read(2)`: nothing polls, nothing sleeps, and no thread
/// of the Swift concurrency pool is ever blocked by a quiet client. The stream ends at
/// end of input, on a read error, or when ``stop()`` is called (the thread then leaves at
/// its next wake-up; at process exit it simply goes away with the process).
///
/// With an ``InFlightLimit`` the thread takes a slot before handing on each line and
/// stops reading while none is free, so a flood cannot queue lines without bound.
public final class LineReader: Sendable {
    public let events: AsyncStream<LineEvent>
    private let continuation: AsyncStream<LineEvent>.Continuation
    private let fileDescriptor: Int32
    private let maxLineBytes: Int
    private let limit: InFlightLimit?
    private let started = Locked(false)
    private let stopped = Locked(false)

    public convenience init(fileDescriptor: Int32, maxLineBytes: Int = LineFramer.defaultMaxLineBytes) {
        self.init(fileDescriptor: fileDescriptor, maxLineBytes: maxLineBytes, limit: nil)
    }

    init(fileDescriptor: Int32, maxLineBytes: Int, limit: InFlightLimit?) {
        // Unbounded buffering: the bound, when there is one, is the limit's.
        (events, continuation) = AsyncStream.makeStream(of: LineEvent.self, bufferingPolicy: .unbounded)
        self.fileDescriptor = fileDescriptor
        self.maxLineBytes = maxLineBytes
        self.limit = limit
    }

    /// Starts the reader thread (once; later calls do nothing).
    public func start() {
        let alreadyStarted = started.withLock { started in
            defer { started = true }
            return started
        }
        guard !alreadyStarted else { return }
        let fd = fileDescriptor
        let continuation = continuation
        let framer = LineFramer(maxLineBytes: maxLineBytes)
        let limit = limit
        let running = startThread {
            Self.readLoop(fd: fd, framer: framer, limit: limit, continuation: continuation)
        }
        // No thread, no input: end the stream as if the input had closed.
        if !running { continuation.finish() }
    }

    /// Ends the stream now; bytes read later are dropped, and so are lines read but not
    /// yet consumed (see ``isStopped``).
    public func stop() {
        stopped.withLock { $0 = true }
        limit?.close()
        continuation.finish()
    }

    /// Whether ``stop()`` was called: a consumer stops taking events, including those
    /// the stream still holds, once this is true.
    public var isStopped: Bool { stopped.withLock { $0 } }

    private static func readLoop(
        fd: Int32, framer: LineFramer, limit: InFlightLimit?, continuation: AsyncStream<LineEvent>.Continuation
    ) {
        var framer = framer
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        defer { continuation.finish() }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return  // EBADF, EIO...: the input is gone, treat it as its end.
            }
            if count == 0 {
                for event in framer.finish() {
                    guard limit?.acquireForLine() ?? true else { return }
                    continuation.yield(event)
                }
                return
            }
            for event in framer.append(buffer[..<count]) {
                guard limit?.acquireForLine() ?? true else { return }
                if case .terminated = continuation.yield(event) { return }
            }
        }
    }
}

// MARK: - Threads

/// Runs `body` on a new detached POSIX thread (Foundation's `Thread` is not used here,
/// to keep Foundation out of the executable's start-up). `false` if none could be made.
func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    let result = pthread_create(
        &thread, nil,
        { context in
            Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, context)
    #else
    var thread = pthread_t()
    let result = pthread_create(
        &thread, nil,
        { context in
            Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
    #endif
    guard result == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return false
    }
    #if canImport(Darwin)
    if let thread { pthread_detach(thread) }
    #else
    pthread_detach(thread)
    #endif
    return true
}
