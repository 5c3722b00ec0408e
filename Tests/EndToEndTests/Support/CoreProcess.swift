import Foundation
import JSON
import TestSupport

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
    /// mmcore's stdin: writes never block the test, even when mmcore stops reading.
    private let input: PipeWriter
    private let output = Pipe()
    private let errors = Pipe()
    private let stdoutLines = LineQueue()
    private let exit = Awaited<Exit>()
    /// The ends of stdout and stderr: the exit status can come before the last bytes are
    /// read (a pipe buffer's worth, such as the end of `--print-schema`).
    private let outputsEnded = (stdout: Awaited<Bool>(), stderr: Awaited<Bool>())
    private let lock = NSLock()
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
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
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = errors
        let exit = exit
        process.terminationHandler = { process in
            ChildProcesses.exited(process.processIdentifier)
            exit.record(Exit(status: process.terminationStatus, exited: process.terminationReason == .exit))
        }
        // The writer owns a close-on-exec copy of the write end (no later child inherits
        // it, so closing it is mmcore's end of input); the pipe's own is closed at once.
        let writeEnd = fcntl(stdin.fileHandleForWriting.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        guard writeEnd >= 0 else { throw Failure(description: "cannot duplicate mmcore's stdin: errno \(errno)") }
        input = PipeWriter(descriptor: writeEnd)
        do {
            try process.run()
        } catch {
            input.close()
            throw error
        }
        ChildProcesses.started(process)
        try? stdin.fileHandleForWriting.close()

        // Each stream is read on a thread of its own, which keeps its pipe (and so the
        // descriptor it reads) alive until the end.
        let lines = stdoutLines
        let ended = outputsEnded
        let output = output
        let errors = errors
        readLinesOnThread(output.fileHandleForReading.fileDescriptor) { [weak self] chunk in
            self?.lock.withLock { self?.stdoutBytes += chunk }
        } line: { line in
            lines.push(line)
        } end: {
            withExtendedLifetime(output) { lines.end() }
            ended.stdout.record(true)
        }
        readLinesOnThread(errors.fileHandleForReading.fileDescriptor) { [weak self] chunk in
            self?.lock.withLock { self?.stderrBytes += chunk }
        } line: { _ in
        } end: {
            withExtendedLifetime(errors) {}
            ended.stderr.record(true)
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
        input.close()
    }

    var processIdentifier: Int32 { process.processIdentifier }

    // MARK: Talking

    /// Sends one line (a newline is added).
    func send(_ line: String) throws {
        try sendBytes(Array((line + "\n").utf8))
    }

    /// Hands `bytes` to mmcore's stdin after everything sent before; returns at once even
    /// when mmcore is not reading. Throws once mmcore's stdin is gone.
    func sendBytes(_ bytes: [UInt8]) throws {
        try input.write(bytes)
    }

    func sendJSON(_ value: JSONValue) throws {
        try send(value.serialized)
    }

    /// The next line of stdout, as text.
    func readLine(timeout: Duration = .seconds(10)) async throws -> String {
        let line: [UInt8]?
        do {
            line = try await stdoutLines.next(timeout: timeout)
        } catch {
            throw Failure(description: "no line on stdout within \(timeout); stderr:\n\(standardError)")
        }
        guard let line else { throw Failure(description: "stdout ended; stderr:\n\(standardError)") }
        return String(decoding: line, as: UTF8.self)
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
        input.close()
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

    /// Waits for the process to end (without holding a thread).
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Exit {
        guard let exit = await exit.wait(timeout: timeout) else {
            throw Failure(description: "mmcore did not exit within \(timeout); stderr:\n\(standardError)")
        }
        // Whatever it wrote before exiting is read before the exit counts.
        _ = await outputsEnded.stdout.wait(timeout: .seconds(5))
        _ = await outputsEnded.stderr.wait(timeout: .seconds(5))
        return exit
    }

    /// Every stdout line not read yet, up to the end of stdout.
    func remainingLines(timeout: Duration = .seconds(15)) async throws -> [String] {
        var lines: [String] = []
        while let line = try await stdoutLines.next(timeout: timeout) { lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }

    /// All bytes written to stdout so far.
    var standardOutputBytes: [UInt8] { lock.withLock { stdoutBytes } }

    /// Everything written to stderr so far.
    var standardError: String { lock.withLock { String(decoding: stderrBytes, as: UTF8.self) } }
}
