import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback HTTP/1.1 server that misbehaves on purpose, one ``Behaviour`` per
/// instance, for testing the real ``AsyncHTTPClientTransport`` and the client's mapping
/// against what a broken network or a hostile server really sends (a fake transport
/// cannot stall a body or trickle bytes).
///
/// Listens on 127.0.0.1 on a port the kernel picks; every connection gets its own thread
/// (never one of the cooperative pool's) with blocking I/O polled every 20 ms, so
/// ``stop()`` ends everything within milliseconds, and waits for that without holding a
/// thread. A stalled answer is held at most ``holdLimit`` (60 s by default), so a
/// test of a missing deadline fails slowly instead of hanging the suite. Use ``withHostileServer(_:_:)``,
/// which stops the server whatever the test does.
public final class HostileServer: Sendable {
    public struct Header: Sendable {
        public let name: String
        public let value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public indirect enum Behaviour: Sendable {
        /// Sends the head with `Content-Length`, then nothing.
        case stallAfterHeaders(contentLength: Int)
        /// Sends the head with `Content-Length`, then one byte every `interval`.
        case trickle(contentLength: Int, interval: Duration)
        /// Sends a chunked head and one chunk, then goes silent.
        case chunkedThenSilence
        /// Reads the request and never answers.
        case silent
        /// Answers with this status, headers and body, then closes.
        case respond(status: Int, headers: [Header], body: [UInt8])
        /// Answers 200 with a JSON content type and `bytes` bytes of body, sent in chunks.
        case largeBody(bytes: Int)
        /// Picks the behaviour for each request from its request line (`PATCH /path HTTP/1.1`),
        /// so one server can register an installation normally and stall the next call.
        case route(@Sendable (String) -> Behaviour)

        /// `302 Found` to `location`.
        public static func redirect(to location: String) -> Behaviour {
            .respond(status: 302, headers: [Header("Location", location)], body: [])
        }

        /// What a hotel or airport Wi-Fi answers to any request before sign-in.
        public static let captivePortal = Behaviour.respond(
            status: 200, headers: [Header("Content-Type", "text/html; charset=utf-8")],
            body: Array("<html><head><title>Sign in to Wi-Fi</title></head><body><form>Accept</form></body></html>".utf8))

        /// A Mobile API error body with exactly these `messageId` and `text` strings
        /// (JSON-escaped here, so CR, LF and quotes arrive as the server meant them).
        public static func mobileAPIError(status: Int, messageId: String, text: String) -> Behaviour {
            let body = #"{"requestError":{"serviceException":{"messageId":"#
                + jsonString(messageId) + #","text":"# + jsonString(text) + "}}}"
            return .respond(status: status, headers: [Header("Content-Type", "application/json")], body: Array(body.utf8))
        }
    }

    private struct State {
        var stopped = false
        var threads = 0
        var connections = 0
        var requestHeads: [String] = []
        /// Open connection descriptors, shut down by `stop()` to wake their threads.
        var open: Set<Int32> = []
        /// Waits in ``stop()`` for the last thread to end.
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let port: UInt16
    public let holdLimit: Duration
    private let current: Mutex<Behaviour>
    private let listener: Int32
    private let state = Mutex(State())

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Connections accepted so far.
    public var connectionCount: Int { state.withLock { $0.connections } }
    /// The request line and headers of each request read so far.
    public var requestHeads: [String] { state.withLock { $0.requestHeads } }
    /// What the next request gets.
    public var behaviour: Behaviour { current.withLock { $0 } }

    /// Changes what later requests get (a server that recovers, or breaks).
    public func become(_ behaviour: Behaviour) { current.withLock { $0 = behaviour } }

    public init(_ behaviour: Behaviour, holdLimit: Duration = .seconds(60)) throws {
        current = Mutex(behaviour)
        self.holdLimit = holdLimit
        (listener, port) = try Self.makeListener()
        let started = spawn { [self] in acceptLoop() }
        guard started else {
            close(listener)
            throw HostileServerError.thread
        }
    }

    /// Stops accepting, breaks every open connection and waits (at most 5 s, suspended,
    /// not blocking a thread) until every thread has ended; afterwards the port refuses
    /// connections.
    public func stop() async {
        shutDown()
        let timer = Task { [self] in
            try await Task.sleep(for: .seconds(5))
            let late = state.withLock { state in
                defer { state.stopWaiters = [] }
                return state.stopWaiters
            }
            for waiter in late { waiter.resume() }
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.threads == 0 { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Stops accepting and breaks every open connection without waiting: the threads end
    /// on their own within milliseconds. For a `defer`, which cannot await; a test that
    /// needs the port closed awaits ``stop()``.
    public func shutDown() {
        let open = state.withLock { state in
            state.stopped = true
            return state.open
        }
        for descriptor in open { shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    // MARK: - Threads

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func spawn(_ body: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { $0.threads += 1 }
        let started = startPOSIXThread { [self] in
            body()
            threadEnded()
        }
        if !started { threadEnded() }
        return started
    }

    private func threadEnded() {
        let waiters = state.withLock { state in
            state.threads -= 1
            guard state.threads == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            guard wait(for: listener, events: Int16(POLLIN), milliseconds: 20) else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            let registered = state.withLock { state in
                guard !state.stopped else { return false }
                state.connections += 1
                state.open.insert(connection)
                return true
            }
            guard registered, spawn({ [self] in serve(connection) }) else {
                state.withLock { _ = $0.open.remove(connection) }
                close(connection)
                continue
            }
        }
    }

    private func serve(_ connection: Int32) {
        defer {
            state.withLock { _ = $0.open.remove(connection) }
            close(connection)
        }
        guard let head = readRequest(connection) else { return }
        state.withLock { $0.requestHeads.append(head) }
        let started = ContinuousClock.now
        let holding = { [self] in !isStopped && ContinuousClock.now - started < holdLimit }

        var behaviour = self.behaviour
        while case .route(let pick) = behaviour {
            behaviour = pick(String(head.prefix { $0 != "\r" && $0 != "\n" }))
        }
        switch behaviour {
        case .route:
            return
        case .stallAfterHeaders(let length):
            guard write(connection, head: "200 OK", ["Content-Type: application/json", "Content-Length: \(length)"]) else { return }
            while holding() { usleep(20_000) }
        case .trickle(let length, let interval):
            guard write(connection, head: "200 OK", ["Content-Type: application/json", "Content-Length: \(length)"]) else { return }
            var sent = 0
            while sent < length, holding() {
                guard pause(for: interval, while: holding), write(connection, Array(" ".utf8)) else { return }
                sent += 1
            }
        case .chunkedThenSilence:
            guard write(connection, head: "200 OK", ["Content-Type: application/json", "Transfer-Encoding: chunked"]),
                write(connection, Array("5\r\n{\"a\":\r\n".utf8))
            else { return }
            while holding() { usleep(20_000) }
        case .silent:
            while holding() { usleep(20_000) }
        case .respond(let status, let headers, let body):
            let lines = headers.map { "\($0.name): \($0.value)" } + ["Content-Length: \(body.count)", "Connection: close"]
            guard write(connection, head: "\(status) \(Self.reason(status))", lines) else { return }
            _ = write(connection, body)
        case .largeBody(let bytes):
            guard write(connection, head: "200 OK", ["Content-Type: application/json", "Content-Length: \(bytes)"]) else { return }
            let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 64 * 1024)
            var sent = 0
            while sent < bytes, !isStopped {
                let count = min(chunk.count, bytes - sent)
                guard write(connection, Array(chunk[..<count])) else { return }
                sent += count
            }
        }
    }

    // MARK: - I/O

    /// The request line and headers (the body, if any, is read and dropped), or `nil`
    /// when the client went away or the server stopped first.
    private func readRequest(_ connection: Int32) -> String? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let end = Array("\r\n\r\n".utf8)
        while !isStopped {
            if let range = buffer.firstRange(of: end) {
                let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                var remaining = Self.contentLength(head) - (buffer.count - range.upperBound)
                while remaining > 0, !isStopped {
                    guard wait(for: connection, events: Int16(POLLIN), milliseconds: 20) else { continue }
                    let count = recv(connection, &chunk, chunk.count, 0)
                    guard count > 0 else { return nil }
                    remaining -= count
                }
                return head
            }
            guard buffer.count < 64 * 1024 else { return nil }
            guard wait(for: connection, events: Int16(POLLIN), milliseconds: 20) else { continue }
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
        return nil
    }

    private func write(_ connection: Int32, head status: String, _ lines: [String]) -> Bool {
        write(connection, Array(("HTTP/1.1 \(status)\r\n" + lines.map { $0 + "\r\n" }.joined() + "\r\n").utf8))
    }

    /// Writes all of `bytes`; `false` once the client has gone or the server stopped.
    private func write(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard !isStopped else { return false }
            guard wait(for: connection, events: Int16(POLLOUT), milliseconds: 20) else { continue }
            let written = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Self.noSignal) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Whether `descriptor` became ready (or failed, which the next call then sees).
    private func wait(for descriptor: Int32, events: Int16, milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Sleeps `duration` in short steps; `false` if `condition` stopped holding meanwhile.
    private func pause(for duration: Duration, while condition: () -> Bool) -> Bool {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            guard condition() else { return false }
            usleep(5_000)
        }
        return true
    }

    // MARK: - Helpers

    #if canImport(Glibc)
        private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
        private static let noSignal: Int32 = 0
    #endif

    private static func makeListener() throws -> (Int32, UInt16) {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw HostileServerError.socket(errno) }
        #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            let code = errno
            close(descriptor)
            throw HostileServerError.socket(code)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    private static func contentLength(_ head: String) -> Int {
        for line in head.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                return Int(parts[1].trimmingPrefix(" ")) ?? 0
            }
        }
        return 0
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400..<500: "Client Error"
        default: "Status"
        }
    }

    private static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

public enum HostileServerError: Error {
    case socket(Int32)
    case thread
}

/// Runs `body` with a server that is stopped when `body` returns or throws.
public func withHostileServer<T>(_ behaviour: HostileServer.Behaviour, holdLimit: Duration = .seconds(60), _ body: (HostileServer) async throws -> T)
    async throws -> T
{
    let server = try HostileServer(behaviour, holdLimit: holdLimit)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Runs `body` on a new detached POSIX thread (the server's blocking I/O must not hold
/// one of the few threads of Swift's cooperative pool).
private func startPOSIXThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    #if canImport(Darwin)
        var thread: pthread_t?
        let result = pthread_create(
            &thread, nil, { context in
                Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
                return nil
            }, context)
        if result == 0, let thread { pthread_detach(thread) }
    #else
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil, { context in
                Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
        if result == 0 { pthread_detach(thread) }
    #endif
    guard result == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return false
    }
    return true
}
