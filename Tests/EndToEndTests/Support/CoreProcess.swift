import Foundation
import JSON

/// A running `mmcore`, spoken to the way a wrapper does: JSON lines on its stdin, JSON
/// lines read back from its stdout, its stderr kept for inspection.
///
/// The executable is `$MMCORE_BIN` when set, else the `mmcore` built next to the test
/// bundle (the directory of `CommandLine.arguments[0]`), else `.build/debug/mmcore`.
/// With `MMCORE_TRANSPORT=embedded` it is instead the C host that runs the same core in
/// process through the library (``EmbeddedHost``): the same suites test both transports.
final class CoreProcess: @unchecked Sendable {
    // @unchecked: the mutable state below is guarded by `lock`; the Foundation objects are
    // only configured in init, before the value is shared.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Exit: Equatable, CustomStringConvertible {
        let status: Int32
        /// `false` when a signal ended the process (status is then the signal number).
        let exited: Bool
        var description: String { exited ? "exit \(status)" : "signal \(status)" }
    }

    private let process = Process()
    private let input = Pipe()
    private let stdoutLines = LineQueue()
    private let lock = NSLock()
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
    private var exit: Exit?
    private var exitWaiters: [CheckedContinuation<Exit, Never>] = []
    /// The status, held until stdout and stderr are read to their end: the termination
    /// handler can run before the last bytes are read (a 64 KiB pipe buffer's worth).
    private var exitBeforeOutputsEnded: Exit?
    private var openOutputs = 2
    private var eventsSeen: [JSONValue] = []
    private var consumedEvents: [JSONValue] = []
    private var otherMessagesSeen: [JSONValue] = []
    private var requestCount = 0
    private var clientRequestHandler: (@Sendable (_ method: String, _ params: JSONValue) -> JSONValue)?
    private var clientRequestsSeen: [JSONValue] = []

    static var executableURL: URL {
        if EmbeddedHost.isSelected, case .success(let host) = EmbeddedHost.build { return host }
        return mmcoreURL
    }

    /// The `mmcore` executable, whichever transport is selected.
    static var mmcoreURL: URL {
        if let path = ProcessInfo.processInfo.environment["MMCORE_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mmcore")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return packageRoot.appendingPathComponent(".build/debug/mmcore")
    }

    /// The package's root directory (this file is `Tests/EndToEndTests/Support/CoreProcess.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Starts `mmcore` (or `executable`) with `arguments`; `environment` is added to the
    /// test's own.
    init(arguments: [String] = [], environment: [String: String] = [:], executable: URL? = nil) throws {
        if executable == nil, EmbeddedHost.isSelected, case .failure(let failure) = EmbeddedHost.build { throw failure }
        let executable = executable ?? Self.executableURL
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failure(description: "no mmcore at \(executable.path): run `swift build --product mmcore` or set MMCORE_BIN")
        }
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        process.terminationHandler = { [weak self] process in
            ChildProcesses.exited(process.processIdentifier)
            self?.exited(Exit(status: process.terminationStatus, exited: process.terminationReason == .exit))
        }
        try process.run()
        ChildProcesses.started(process)

        let lines = stdoutLines
        Self.pump(output.fileHandleForReading) { [weak self] chunk in
            self?.lock.withLock { self?.stdoutBytes += chunk }
        } lines: { line in
            lines.push(line)
        } end: { [weak self] in
            lines.end()
            self?.outputEnded()
        }
        Self.pump(errors.fileHandleForReading) { [weak self] chunk in
            self?.lock.withLock { self?.stderrBytes += chunk }
        } end: { [weak self] in
            self?.outputEnded()
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var processIdentifier: Int32 { process.processIdentifier }

    // MARK: Talking

    /// Sends one line (a newline is added).
    func send(_ line: String) throws {
        try sendBytes(Array((line + "\n").utf8))
    }

    func sendBytes(_ bytes: [UInt8]) throws {
        try input.fileHandleForWriting.write(contentsOf: Data(bytes))
    }

    func sendJSON(_ value: JSONValue) throws {
        try send(value.serialized)
    }

    /// The next line of stdout, as text.
    func readLine(timeout: Duration = .seconds(10)) async throws -> String {
        guard let line = try await stdoutLines.next(timeout: timeout) else {
            throw Failure(description: "stdout ended; stderr:\n\(standardError)")
        }
        return line
    }

    /// The next message on stdout, parsed.
    func readMessage(timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let line = try await readLine(timeout: timeout)
        do {
            return try JSONParser.parse(line)
        } catch {
            throw Failure(description: "stdout line is not JSON (\(error)): \(line.prefix(200))")
        }
    }

    /// Answers requests the core sends (e.g. `requestUserDataJwt`) with `handler`'s result
    /// while ``request(_:params:timeout:)`` or ``waitForEvent(_:timeout:)`` read; without a
    /// handler they are kept in ``otherMessages`` unanswered.
    func answerClientRequests(_ handler: (@Sendable (_ method: String, _ params: JSONValue) -> JSONValue)?) {
        lock.withLock { clientRequestHandler = handler }
    }

    /// The core's own requests answered by the handler, in order.
    var clientRequests: [JSONValue] { lock.withLock { clientRequestsSeen } }

    /// Files a message that is not the awaited response: an event, a client request
    /// (answered when a handler is set), or anything else.
    private func file(_ message: JSONValue) throws {
        if message["method"] == "event" {
            lock.withLock { eventsSeen.append(message) }
            return
        }
        if let method = message["method"]?.stringValue, let id = message["id"],
            let handler = lock.withLock({ clientRequestHandler })
        {
            lock.withLock { clientRequestsSeen.append(message) }
            let result = handler(method, message["params"] ?? .null)
            try sendJSON(["jsonrpc": "2.0", "id": id, "result": result])
            return
        }
        lock.withLock { otherMessagesSeen.append(message) }
    }

    /// Sends a request with an id of its own and returns its response. `event`
    /// notifications arriving meanwhile are kept in ``events``, anything else in
    /// ``otherMessages``.
    func request(_ method: String, params: JSONValue? = nil, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let id = lock.withLock {
            requestCount += 1
            return "test-\(requestCount)"
        }
        var request: JSONObject = ["jsonrpc": "2.0", "id": .string(id), "method": .string(method)]
        if let params { request["params"] = params }
        try sendJSON(.object(request))
        while true {
            let message = try await readMessage(timeout: timeout)
            if message["id"] == .string(id), message["method"] == nil { return message }
            try file(message)
        }
    }

    /// The params (`{eventName, payload}`) of the first `event` notification named `name`
    /// not returned before, reading on when it has not arrived yet.
    func waitForEvent(_ name: String, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen: JSONValue? = lock.withLock {
                guard let index = eventsSeen.firstIndex(where: { $0["params"]?["eventName"] == .string(name) }) else {
                    return nil
                }
                consumedEvents.append(eventsSeen.remove(at: index))
                return consumedEvents.last
            }
            if let seen { return seen["params"] ?? .null }
            let message = try await readMessage(timeout: deadline - ContinuousClock.now)
            try file(message)
        }
    }

    /// Every `event` notification read so far (returned by ``waitForEvent(_:timeout:)`` or not).
    var events: [JSONValue] { lock.withLock { consumedEvents + eventsSeen } }
    var otherMessages: [JSONValue] { lock.withLock { otherMessagesSeen } }

    // MARK: Ending

    /// Closes mmcore's stdin (end of input).
    func closeInput() throws {
        try input.fileHandleForWriting.close()
    }

    /// Sends SIGKILL: the process ends at once, whatever it was doing.
    func killHard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Sends SIGTERM. Neither signal is sent once the process has been reaped: its pid may
    /// belong to another process by then.
    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Blocks the calling thread until the process has ended: only from a thread of the
    /// caller's own, never the cooperative pool the tests share.
    func waitUntilExitBlocking() {
        process.waitUntilExit()
    }

    /// Waits for the process to end.
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Exit {
        try await withThrowingTaskGroup(of: Exit.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done: Exit? = self.lock.withLock {
                        if let exit = self.exit { return exit }
                        self.exitWaiters.append(continuation)
                        return nil
                    }
                    if let done { continuation.resume(returning: done) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure(description: "mmcore did not exit within \(timeout); stderr:\n\(self.standardError)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Every stdout line not read yet, up to the end of stdout.
    func remainingLines(timeout: Duration = .seconds(15)) async throws -> [String] {
        var lines: [String] = []
        while let line = try await stdoutLines.next(timeout: timeout) { lines.append(line) }
        return lines
    }

    /// All bytes written to stdout so far.
    var standardOutputBytes: [UInt8] { lock.withLock { stdoutBytes } }

    /// Everything written to stderr so far.
    var standardError: String { lock.withLock { String(decoding: stderrBytes, as: UTF8.self) } }

    /// The process ended; it counts as exited once its output is read too.
    private func exited(_ exit: Exit) {
        lock.withLock { exitBeforeOutputsEnded = exit }
        finishIfDone()
    }

    private func outputEnded() {
        lock.withLock { openOutputs -= 1 }
        finishIfDone()
    }

    private func finishIfDone() {
        let (exit, waiters): (Exit?, [CheckedContinuation<Exit, Never>]) = lock.withLock {
            guard self.exit == nil, openOutputs == 0, let exit = exitBeforeOutputsEnded else { return (nil, []) }
            self.exit = exit
            defer { exitWaiters = [] }
            return (exit, exitWaiters)
        }
        guard let exit else { return }
        for waiter in waiters { waiter.resume(returning: exit) }
    }

    /// Reads `handle` to its end on a thread of its own, handing on chunks and lines.
    private static func pump(
        _ handle: FileHandle, chunk: @escaping @Sendable ([UInt8]) -> Void,
        lines: @escaping @Sendable (String) -> Void = { _ in }, end: @escaping @Sendable () -> Void = {}
    ) {
        let thread = Thread {
            var pending: [UInt8] = []
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                let bytes = [UInt8](data)
                chunk(bytes)
                pending += bytes
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: 0x0A) {
                    lines(String(decoding: pending[start..<newline], as: UTF8.self))
                    start = newline + 1
                }
                pending.removeSubrange(..<start)
            }
            if !pending.isEmpty { lines(String(decoding: pending, as: UTF8.self)) }
            end()
        }
        thread.start()
    }
}

/// Lines handed out one at a time, each wait bounded by a deadline.
final class LineQueue: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    private var head = 0
    private var ended = false
    private var waiter: (token: Int, continuation: CheckedContinuation<String?, any Error>)?
    private var tokens = 0
    /// Deadlines that passed before their wait began.
    private var expired: Set<Int> = []

    func push(_ line: String) {
        let waiting: CheckedContinuation<String?, any Error>? = lock.withLock {
            if let waiter {
                self.waiter = nil
                return waiter.continuation
            }
            lines.append(line)
            return nil
        }
        waiting?.resume(returning: line)
    }

    func end() {
        let waiting: CheckedContinuation<String?, any Error>? = lock.withLock {
            ended = true
            defer { waiter = nil }
            return waiter?.continuation
        }
        waiting?.resume(returning: nil)
    }

    /// The next line; `nil` when the stream ended and everything was handed out.
    func next(timeout: Duration) async throws -> String? {
        let token = lock.withLock {
            tokens += 1
            return tokens
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(token)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let ready: Result<String?, any Error>? = lock.withLock {
                if head < lines.count {
                    defer { head += 1 }
                    return .success(lines[head])
                }
                if ended { return .success(nil) }
                if expired.remove(token) != nil {
                    return .failure(CoreProcess.Failure(description: "no line on stdout within the timeout"))
                }
                waiter = (token, continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func expire(_ token: Int) {
        let waiting: CheckedContinuation<String?, any Error>? = lock.withLock {
            guard let waiter, waiter.token == token else {
                expired.insert(token)
                return nil
            }
            self.waiter = nil
            return waiter.continuation
        }
        waiting?.resume(throwing: CoreProcess.Failure(description: "no line on stdout within the timeout"))
    }
}
