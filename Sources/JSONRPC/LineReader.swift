#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

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
///
/// ``Connection`` reads the lines of each `read(2)` together (``batches``): one hand-off
/// per read instead of one per line, and the answers to those lines go out in one write.
public final class LineReader: Sendable {
    /// The lines one at a time (ends at once when the reader was made for ``batches``).
    public let events: AsyncStream<LineEvent>
    /// The lines of each read together (ends at once unless the reader was made for them).
    let batches: AsyncStream<[LineEvent]>
    private let output: Output
    private let fileDescriptor: Int32
    private let maxLineBytes: Int
    private let limit: InFlightLimit?
    private let started = Mutex(false)
    private let stopped = Mutex(false)

    public convenience init(fileDescriptor: Int32, maxLineBytes: Int = LineFramer.defaultMaxLineBytes) {
        self.init(fileDescriptor: fileDescriptor, maxLineBytes: maxLineBytes, limit: nil)
    }

    init(fileDescriptor: Int32, maxLineBytes: Int, limit: InFlightLimit?, batched: Bool = false) {
        // Unbounded buffering: the bound, when there is one, is the limit's.
        let lines = AsyncStream.makeStream(of: LineEvent.self, bufferingPolicy: .unbounded)
        let batches = AsyncStream.makeStream(of: [LineEvent].self, bufferingPolicy: .unbounded)
        events = lines.stream
        self.batches = batches.stream
        if batched {
            output = .batches(batches.continuation)
            lines.continuation.finish()
        } else {
            output = .lines(lines.continuation)
            batches.continuation.finish()
        }
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
        let output = output
        let framer = LineFramer(maxLineBytes: maxLineBytes)
        let limit = limit
        let running = startThread {
            Self.readLoop(fd: fd, framer: framer, limit: limit, output: output)
        }
        // No thread, no input: end the stream as if the input had closed.
        if !running { output.finish() }
    }

    /// Ends the stream now; bytes read later are dropped, and so are lines read but not
    /// yet consumed (see ``isStopped``).
    public func stop() {
        stopped.withLock { $0 = true }
        limit?.close()
        output.finish()
    }

    /// Whether ``stop()`` was called: a consumer stops taking events, including those
    /// the stream still holds, once this is true.
    public var isStopped: Bool { stopped.withLock { $0 } }

    private static func readLoop(fd: Int32, framer: LineFramer, limit: InFlightLimit?, output: Output) {
        var framer = framer
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        defer { output.finish() }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return  // EBADF, EIO...: the input is gone, treat it as its end.
            }
            if count == 0 {
                _ = hand(framer.finish(), to: output, limit: limit)
                return
            }
            guard hand(framer.append(buffer[..<count]), to: output, limit: limit) else { return }
        }
    }

    /// Hands on `events`, each with its slot: as many at once as there are free slots,
    /// waiting for more as needed. `false` once the reader should stop.
    private static func hand(_ events: [LineEvent], to output: Output, limit: InFlightLimit?) -> Bool {
        var start = 0
        while start < events.count {
            let granted = limit?.acquire(upTo: events.count - start) ?? events.count - start
            guard granted > 0 else { return false }  // the limit was closed
            guard output.yield(events[start..<(start + granted)]) else { return false }
            start += granted
        }
        return true
    }

    /// Where the reader thread delivers.
    private enum Output: Sendable {
        case lines(AsyncStream<LineEvent>.Continuation)
        case batches(AsyncStream<[LineEvent]>.Continuation)

        /// `false` once the consumer is gone.
        func yield(_ events: ArraySlice<LineEvent>) -> Bool {
            switch self {
            case .lines(let continuation):
                for event in events {
                    if case .terminated = continuation.yield(event) { return false }
                }
                return true
            case .batches(let continuation):
                if case .terminated = continuation.yield(Array(events)) { return false }
                return true
            }
        }

        func finish() {
            switch self {
            case .lines(let continuation): continuation.finish()
            case .batches(let continuation): continuation.finish()
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
