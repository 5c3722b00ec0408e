/// What the framing makes of the input: a line to parse, or a line that was too long.
public enum LineEvent: Sendable, Equatable {
    /// The bytes of one line, without its `\n` or `\r\n`. Never empty or blank.
    case line([UInt8])
    /// A line longer than the maximum; its bytes were skipped, not kept.
    case lineTooLong
}

/// Splits a byte stream into lines: one JSON-RPC message (or batch) per line.
///
/// A pure value fed chunk by chunk, so it is tested without file descriptors. A line
/// ends at `\n`; a `\r` before it is dropped; blank lines are skipped. A line longer than
/// `maxLineBytes` (not counting its ending) is reported once and then discarded up to its
/// `\n` as the bytes arrive, so memory stays bounded by the maximum whatever the input.
public struct LineFramer: Sendable {
    public static let defaultMaxLineBytes = 1_048_576

    public let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var discarding = false

    public init(maxLineBytes: Int = defaultMaxLineBytes) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// Takes the next chunk of input and returns the events it completes.
    public mutating func append(_ chunk: some Collection<UInt8>) -> [LineEvent] {
        var events: [LineEvent] = []
        var rest = chunk[...]
        while !rest.isEmpty {
            let newline = rest.firstIndex(of: UInt8(ascii: "\n"))
            let segment = rest[..<(newline ?? rest.endIndex)]
            if !discarding {
                // One byte of slack for a `\r` that may turn out to end the line.
                if pending.count + segment.count > maxLineBytes + 1 {
                    discarding = true
                    pending = []
                    events.append(.lineTooLong)
                } else {
                    pending.append(contentsOf: segment)
                }
            }
            guard let newline else { break }
            if let event = endLine() { events.append(event) }
            rest = rest[rest.index(after: newline)...]
        }
        return events
    }

    /// Ends the input: an unterminated last line is still a line.
    public mutating func finish() -> [LineEvent] {
        endLine().map { [$0] } ?? []
    }

    private mutating func endLine() -> LineEvent? {
        defer {
            pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
            discarding = false
        }
        if discarding { return nil }
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        if pending.count > maxLineBytes { return .lineTooLong }
        if pending.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        return .line(pending)
    }
}
