import Synchronization
import Logging

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// mmcore's log lines on stderr, written exactly as swift-log's `StreamLogHandler` writes
/// them (`2026-11-21T08:45:00+0000 notice mobile-messaging: key=value [Module] message`),
/// at a fraction of the cost.
///
/// A refused `saveUser` logs a notice, so a wrapper that floods such calls logs a line per
/// call: with `StreamLogHandler` that was ~10% of the pipelined benchmark's CPU. Its
/// timestamp calls `localtime` and `strftime`, and glibc re-reads the time zone (a `stat`
/// of /etc/localtime) on each, then the line goes through stdio's lock, `fwrite` and
/// `fflush`. Here the timestamp is formatted once per second (from `localtime_r`), the
/// line is built as bytes, and written with one `write(2)` (a line up to `PIPE_BUF` bytes
/// is never interleaved with another).
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadataProvider: Logger.MetadataProvider?
    var metadata = Logger.Metadata() {
        didSet { prettyMetadata = Self.prettify(metadata) }
    }
    private var prettyMetadata: String?

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // StreamLogHandler's rules: the handler's metadata, then the provider's, then the
        // call's, then the error; the handler's alone when the others add nothing.
        let provided = metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line += Timestamp.current().utf8
        line.append(UInt8(ascii: " "))
        line += event.level.rawValue.utf8
        if !label.isEmpty { line.append(UInt8(ascii: " ")) }
        line += label.utf8
        line.append(UInt8(ascii: ":"))
        if provided.isEmpty && explicit.isEmpty && event.error == nil {
            if let prettyMetadata {
                line.append(UInt8(ascii: " "))
                line += prettyMetadata.utf8
            }
        } else {
            var merged = metadata
            if merged.isEmpty && provided.isEmpty {
                merged = explicit
            } else {
                merged.merge(provided) { _, new in new }
                merged.merge(explicit) { _, new in new }
            }
            if let error = event.error {
                merged["error.message"] = "\(error)"
                merged["error.type"] = "\(String(reflecting: type(of: error)))"
            }
            Self.append(merged, to: &line)
        }
        line += " [".utf8
        line += event.source.utf8
        line += "] ".utf8
        line += event.message.description.utf8
        line.append(UInt8(ascii: "\n"))
        Self.writeLine(line)
    }

    /// ` key=value key=value`, sorted by key (nothing when empty).
    private static func append(_ metadata: Logger.Metadata, to line: inout [UInt8]) {
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: " "))
            line += key.utf8
            line.append(UInt8(ascii: "="))
            line += value.description.utf8
        }
    }

    private static func prettify(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        var line: [UInt8] = []
        append(metadata, to: &line)
        return String(decoding: line.dropFirst(), as: UTF8.self)
    }

    private static func writeLine(_ line: [UInt8]) {
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // stderr gone: logs are best effort, as with stdio
                }
                offset += written
            }
        }
    }
}

/// `strftime("%Y-%m-%dT%H:%M:%S%z", localtime(now))`, without `strftime` (glibc's calls
/// `tzset`, which re-reads the time zone file each time when `TZ` is unset, while
/// `localtime_r` reads it once), and formatted once per second.
private enum Timestamp {
    private static let cache = SecondCache()

    static func current() -> String {
        let now = time(nil)
        if let text = cache.text(for: now) { return text }
        var seconds = now
        var local = tm()
        guard localtime_r(&seconds, &local) != nil else { return "<unknown>" }
        let offset = local.tm_gmtoff / 60
        var text = digits(Int(local.tm_year) + 1900, 4) + "-" + digits(Int(local.tm_mon) + 1, 2) + "-"
        text += digits(Int(local.tm_mday), 2) + "T" + digits(Int(local.tm_hour), 2) + ":"
        text += digits(Int(local.tm_min), 2) + ":" + digits(Int(local.tm_sec), 2)
        text += (offset < 0 ? "-" : "+") + digits(abs(offset) / 60, 2) + digits(abs(offset) % 60, 2)
        cache.store(text, for: now)
        return text
    }

    /// `value` in decimal, zero-padded to `width` digits.
    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// The last second's text, shared by the threads that log.
private final class SecondCache: Sendable {
    private let cached = Mutex((second: time_t(-1), text: ""))

    func text(for second: time_t) -> String? {
        cached.withLock { $0.second == second ? $0.text : nil }
    }

    func store(_ text: String, for second: time_t) {
        cached.withLock { $0 = (second, text) }
    }
}
