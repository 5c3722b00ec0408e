import CMMCore
import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Marks every core's callback queue, so `mmcore_close` can tell it is being called from
/// inside a callback (where waiting for the callbacks to end would wait for itself).
let callbackQueueKey = DispatchSpecificKey<Bool>()

/// Whether the calling thread is running one of the cores' callbacks.
var isInsideCallback: Bool { DispatchQueue.getSpecific(key: callbackQueueKey) != nil }

/// The host's callbacks for one core, all made from one serial queue: output and log
/// messages reach the host one at a time, in the order the core produced them, and
/// never from the Swift concurrency pool (a host's callback may block).
final class HostCallbacks: @unchecked Sendable {
    // @unchecked: `closed` is read and written only by blocks running on `queue`, which
    // is serial; everything else is immutable after init. `context` is the host's
    // pointer, handed back to it as is and never dereferenced here; the function
    // pointers are plain C functions.
    let queue: DispatchQueue
    private let output: mmcore_output_fn
    private let log: mmcore_log_fn?
    private let context: UnsafeMutableRawPointer?
    private var closed = false

    init(output: mmcore_output_fn, log: mmcore_log_fn?, context: UnsafeMutableRawPointer?) {
        queue = DispatchQueue(label: "mmcore.callbacks")
        queue.setSpecific(key: callbackQueueKey, value: true)
        self.output = output
        self.log = log
        self.context = context
    }

    /// Runs on `queue` (the connection's ``CallbackOutput`` sends it there).
    func deliverOutput(_ message: [UInt8]) {
        guard !closed else { return }
        var line = message
        line.append(0)  // the header promises a C string as well
        line.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                output(context, text.baseAddress, message.count)
            }
        }
    }

    /// Queues a log message; written to stderr when the host gave no log callback.
    func deliverLog(level: Logger.Level, label: String, text: String) {
        queue.async { [self] in
            guard !closed else { return }
            if let log {
                let line = "\(label): \(text)"
                let count = line.utf8.count
                line.withCString { log(context, Self.code(level), $0, count) }
            } else {
                Self.writeToStandardError("\(Self.timestamp()) \(level) \(label) : \(text)\n")
            }
        }
    }

    /// Waits for every callback queued so far, then lets no later one through. Must not
    /// be called on `queue` (``isInsideCallback`` guards that).
    func close() {
        queue.sync { closed = true }
    }

    // MARK: Formatting

    static func code(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace: MMCORE_LOG_TRACE
        case .debug: MMCORE_LOG_DEBUG
        case .info: MMCORE_LOG_INFO
        case .notice: MMCORE_LOG_NOTICE
        case .warning: MMCORE_LOG_WARNING
        case .error: MMCORE_LOG_ERROR
        case .critical: MMCORE_LOG_CRITICAL
        }
    }

    static func level(_ code: Int32) -> Logger.Level? {
        switch code {
        case 0: .info
        case MMCORE_LOG_TRACE: .trace
        case MMCORE_LOG_DEBUG: .debug
        case MMCORE_LOG_INFO: .info
        case MMCORE_LOG_NOTICE: .notice
        case MMCORE_LOG_WARNING: .warning
        case MMCORE_LOG_ERROR: .error
        case MMCORE_LOG_CRITICAL: .critical
        default: nil
        }
    }

    /// As swift-log's `StreamLogHandler` writes it, so both hosts' stderr reads alike.
    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func writeToStandardError(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// A core's logger: swift-log's front end, the host's callback (or stderr) behind it.
/// The library never bootstraps the process-wide logging system: that is the host's.
struct HostLogHandler: LogHandler {
    let label: String
    let callbacks: HostCallbacks
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let pairs = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        callbacks.deliverLog(level: event.level, label: label, text: "\(event.message)\(pairs)")
    }
}
