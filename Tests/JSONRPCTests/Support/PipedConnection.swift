import Synchronization
import JSON
import Logging
import TestSupport
import Testing

@testable import JSONRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

private func closeDescriptor(_ fd: Int32) { close(fd) }

/// A descriptor closed at most once (a second `close` could hit a reused number).
final class Descriptor: Sendable {
    let fd: Int32
    private let isClosed = Mutex(false)

    init(_ fd: Int32) { self.fd = fd }

    func close() {
        let wasClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        if !wasClosed { closeDescriptor(fd) }
    }
}

/// A ``Connection`` served in-process over two pipes, with the client's ends in hand.
///
/// The client writes through a ``PipeWriter``: a connection that stops reading (at its
/// in-flight limit, or broken) never blocks the test's thread. Only the write ends are
/// ever closed: a reader thread may still be about to call read(2) on a read end, and
/// must never find its number reused by another test. The two read ends per test are
/// left to the process's exit.
final class PipedConnection: Sendable {
    let connection: Connection
    private let clientWrite: PipeWriter
    private let serverWrite: Descriptor
    private let inbox = LineQueue()
    private let serving: Task<Void, Never>

    init(options: Connection.Options = .init(), register: (inout MethodRegistry) -> Void) {
        StandardStreams.ignoreBrokenPipe()
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        precondition(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        let serverRead = toServer[0]
        let clientRead = fromServer[0]
        clientWrite = PipeWriter(descriptor: toServer[1])
        serverWrite = Descriptor(fromServer[1])

        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let connection = Connection(input: serverRead, output: serverWrite.fd, options: options, logger: logger)
        self.connection = connection
        var registry = MethodRegistry()
        register(&registry)
        serving = Task { [registry] in await connection.serve(registry) }

        // The client's reader thread hands each line straight to the inbox.
        let inbox = inbox
        readLinesOnThread(clientRead, line: { inbox.push($0) }, end: { inbox.end() })
    }

    deinit {
        // End of input for both reader threads, so they leave.
        clientWrite.close()
        serverWrite.close()
    }

    func send(_ line: String) {
        sendBytes(Array((line + "\n").utf8))
    }

    /// Hands `bytes` to the connection's input, after everything sent before; returns at
    /// once even when the connection is not reading.
    func sendBytes(_ bytes: [UInt8]) {
        do {
            try clientWrite.write(bytes)
        } catch {
            Issue.record("writing to the connection failed: \(error)")
        }
    }

    /// Ends the connection's input (EOF) after everything sent before.
    func closeInput() {
        clientWrite.close()
    }

    /// The next line the connection wrote, as text.
    func nextLine(timeout: Duration = .seconds(10)) async throws -> String {
        guard let line = try await inbox.next(timeout: timeout) else { throw TestTimeout(what: "a line (output ended)") }
        return String(decoding: line, as: UTF8.self)
    }

    /// The next message the connection wrote, parsed.
    func next(timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try JSONParser.parse(try await nextLine(timeout: timeout))
    }

    /// Sends a request and returns the next message, which must be its response.
    func call(_ request: String) async throws -> JSONValue {
        send(request)
        return try await next()
    }

    /// Waits for `serve` to return (after the input ended or `shutdown()`). The limit is for a deadlock, not for speed: a flood of
    /// a thousand requests beside the whole suite on a loaded two-core machine can take
    /// more than ten seconds.
    func finished(timeout: Duration = .seconds(45)) async throws {
        let serving = serving
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await serving.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TestTimeout(what: "serve to return")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Everything written after the connection finished, up to the end of its output.
    func remainingLines() async throws -> [String] {
        serverWrite.close()  // serve has returned: nobody writes any more
        var lines: [String] = []
        while let line = try await inbox.next(timeout: .seconds(10)) {
            lines.append(String(decoding: line, as: UTF8.self))
        }
        return lines
    }
}

// MARK: - Small helpers

/// A switch a test flips once, awaited by handlers (a gate that opens once).
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

/// Counts calls, for tests that prove a handler ran (or did not).
actor Counter {
    private(set) var value = 0
    private var waiters: [(Int, CheckedContinuation<Void, Never>)] = []

    func increment() {
        value += 1
        waiters.removeAll { target, continuation in
            guard value >= target else { return false }
            continuation.resume()
            return true
        }
    }

    func wait(for target: Int) async {
        if value >= target { return }
        await withCheckedContinuation { waiters.append((target, $0)) }
    }
}

extension JSONValue {
    /// `self[key]` for the nested path `"error.data.code"`.
    subscript(path path: String) -> JSONValue? {
        var value: JSONValue? = self
        for key in path.split(separator: ".") { value = value?[String(key)] }
        return value
    }
}

/// Checks that `lines` answer the `echo` requests with ids `0..<count` exactly once each,
/// every result being its own id.
func expectEachEchoAnsweredOnce(
    _ lines: [String], count: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var seen: [Int: Int] = [:]
    for line in lines {
        let response = try JSONParser.parse(line)
        let id = try #require(response["id"]?.numberValue?.intValue, sourceLocation: sourceLocation)
        #expect(response["result"]?.numberValue?.intValue == id, sourceLocation: sourceLocation)
        seen[id, default: 0] += 1
    }
    #expect(lines.count == count, sourceLocation: sourceLocation)
    #expect(seen.count == count && seen.values.allSatisfy { $0 == 1 }, sourceLocation: sourceLocation)
}
