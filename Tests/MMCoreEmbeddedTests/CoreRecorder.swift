import CMMCore
import Foundation
import JSON
import Synchronization

/// A host of one in-process core, as a C host would be: the callbacks are plain C
/// functions, and the context pointer leads back to this object.
final class CoreRecorder: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private struct State {
        var lines: [String] = []
        var logs: [(level: Int32, text: String)] = []
        var handle: mmcore_handle = 0
        var callbacksRunning = 0
        var overlapped = false
    }

    private let state = Mutex(State())
    /// Run inside the output callback for each line (e.g. to call back into the core).
    private let onLine: (@Sendable (CoreRecorder, String) -> Void)?
    let stateDirectory: URL

    init(onLine: (@Sendable (CoreRecorder, String) -> Void)? = nil) {
        self.onLine = onLine
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-embedded-\(UUID().uuidString)")
    }

    deinit { try? FileManager.default.removeItem(at: stateDirectory) }

    var handle: mmcore_handle { state.withLock { $0.handle } }
    var lines: [String] { state.withLock { $0.lines } }
    var logs: [(level: Int32, text: String)] { state.withLock { $0.logs } }
    /// Whether two callbacks of this core ever ran at the same time.
    var callbacksOverlapped: Bool { state.withLock { $0.overlapped } }

    /// Opens a core on this recorder's state directory (or `directory`).
    func open(directory: String? = nil, logLevel: Int32 = MMCORE_LOG_INFO, maxMessagesInFlight: Int = 0) -> Int32 {
        var options = Self.options(directory: directory ?? stateDirectory.path, context: self)
        options.log_level = logLevel
        options.max_messages_in_flight = maxMessagesInFlight
        var handle: mmcore_handle = 0
        let status = mmcore_open(&options, &handle)
        if status == MMCORE_OK { state.withLock { $0.handle = handle } }
        return status
    }

    static func options(directory: String, context: CoreRecorder) -> mmcore_options {
        var options = mmcore_options()
        options.size = MemoryLayout<mmcore_options>.size
        // strdup'd and never freed: the test process is short, and the core copies it.
        options.state_directory = UnsafePointer(strdup(directory))
        options.output = { context, line, length in
            Unmanaged<CoreRecorder>.fromOpaque(context!).takeUnretainedValue()
                .received(String(decoding: UnsafeRawBufferPointer(start: line, count: length), as: UTF8.self))
        }
        options.log = { context, level, message, length in
            Unmanaged<CoreRecorder>.fromOpaque(context!).takeUnretainedValue()
                .logged(level, String(decoding: UnsafeRawBufferPointer(start: message, count: length), as: UTF8.self))
        }
        options.context = Unmanaged.passUnretained(context).toOpaque()
        return options
    }

    /// `mmcore_input` from the calling thread (inside a callback, say).
    func sendNow(_ text: String) -> Int32 {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { mmcore_input(handle, $0.baseAddress, $0.count) }
    }

    func send(_ text: String) async -> Int32 {
        await Self.onAThreadOfItsOwn { self.sendNow(text) }
    }

    func close() async -> Int32 {
        await Self.onAThreadOfItsOwn { mmcore_close(self.handle) }
    }

    /// `mmcore_input` and `mmcore_close` may block the calling thread (backpressure, the
    /// wind-down), as the header says: a host calls them from threads of its own, never
    /// from the Swift concurrency pool, whose few threads the core itself runs on.
    static func onAThreadOfItsOwn<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// The first line whose message matches, waiting up to `timeout`.
    func message(timeout: Duration = .seconds(10), where matches: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            for line in lines {
                if let message = try? JSONParser.parse(line), matches(message) { return message }
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw Failure(description: "no matching line within \(timeout); lines: \(lines.prefix(5))")
    }

    func response(id: JSONValue, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await message(timeout: timeout) { $0["id"] == id && $0["method"] == nil }
    }

    // MARK: Callbacks

    private func received(_ line: String) {
        enter()
        state.withLock { $0.lines.append(line) }
        onLine?(self, line)
        leave()
    }

    private func logged(_ level: Int32, _ text: String) {
        enter()
        state.withLock { $0.logs.append((level, text)) }
        leave()
    }

    private func enter() {
        state.withLock {
            $0.callbacksRunning += 1
            if $0.callbacksRunning > 1 { $0.overlapped = true }
        }
    }

    private func leave() {
        state.withLock { $0.callbacksRunning -= 1 }
    }
}
