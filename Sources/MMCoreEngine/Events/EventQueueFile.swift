import JSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The event queue's own file in the state directory, `events.json`, beside
/// `state.json` and under the same lock (it is opened only by a session that holds the
/// ``StateStore``):
///
/// ```json
/// {
///   "formatVersion": 1,
///   "nextSequence": 4,
///   "events": [ {"sequence": 3, "definitionId": "purchase", "date": "2026-12-08T01:35:00Z", "properties": {...}} ],
///   "depersonalizeBoundaries": [2]
/// }
/// ```
///
/// Written like `state.json` (``StateDirectory``: temporary file created exclusively,
/// 0600, never through a link; `fsync`; rename; `fsync` of the directory), and always
/// synced: every version of it either holds an event the app was told is accepted or
/// removes one the server accepted. A file that cannot be read is moved aside as
/// `events.json.corrupt-<time>` and reported as `STATE_CORRUPTED`, never dropped
/// silently. Its own file rather than a section of `state.json` so that accepting an
/// event writes only the events, and the queue stays a part of its own.
final class EventQueueFile: Sendable {
    static let name = "events.json"
    static let temporaryName = "events.json.tmp"
    static let formatVersion = 1

    private let files: StateDirectory

    init(directory: String) throws(MobileMessagingError) {
        files = try StateDirectory(path: directory, owner: geteuid())
    }

    /// The queue in the file; an empty one when there is no file.
    ///
    /// - Throws: `STATE_CORRUPTED` after moving an unusable file aside.
    func load(now: Double, limits: EventQueueLimits) throws(MobileMessagingError) -> EventQueue {
        let reason: String
        switch try files.read(Self.name, limit: 64 << 20) {
        case .missing:
            return EventQueue(limits: limits)
        case .refused(let problem):
            reason = "it is \(problem)"
        case .bytes(nil):
            reason = "unreadable or larger than 64 MiB"
        case .bytes(let bytes?):
            do {
                return try Self.queue(from: JSONParser.parse(bytes), limits: limits)
            } catch let error as FormatError {
                reason = error.reason
            } catch {
                reason = "not JSON: \(error)"
            }
        }
        let aside = try files.moveAside(Self.name, now: now)
        throw .stateCorrupted(movedTo: aside, "\(Self.name): \(reason)")
    }

    /// Replaces the file with `queue`, synced before it returns.
    func save(_ queue: EventQueue) throws(MobileMessagingError) {
        var bytes = Self.document(of: queue).serializedBytes
        bytes.append(0x0A)
        let file = try files.createExclusively(Self.temporaryName)
        var failure: String?
        if !StateDirectory.writeAll(file, bytes[...]) {
            failure = "write"
        } else if fsync(file) != 0 {
            failure = "sync"
        }
        if let failure {
            let detail = StateDirectory.lastError()
            close(file)
            files.remove(Self.temporaryName)
            throw .stateUnavailable("cannot \(failure) \(files.path(of: Self.temporaryName)): \(detail)")
        }
        close(file)
        do {
            try files.rename(Self.temporaryName, to: Self.name)
        } catch {
            files.remove(Self.temporaryName)
            throw error
        }
        try files.sync()
    }

    // MARK: - The format

    struct FormatError: Error {
        let reason: String
    }

    static func document(of queue: EventQueue) -> JSONValue {
        var events: [JSONValue] = []
        events.reserveCapacity(queue.held.count)
        for entry in queue.held {
            var object: JSONObject = ["sequence": .number(JSONNumber(entry.sequence))]
            for member in entry.event.apiJSON.objectValue ?? [:] { object[member.key] = member.value }
            events.append(.object(object))
        }
        let boundaries = queue.boundaries.filter(\.durable).map { JSONValue.number(JSONNumber($0.after)) }
        return [
            "formatVersion": .number(JSONNumber(formatVersion)), "nextSequence": .number(JSONNumber(queue.nextSequence)),
            "events": .array(events), "depersonalizeBoundaries": .array(boundaries),
        ]
    }

    static func queue(from value: JSONValue, limits: EventQueueLimits) throws(FormatError) -> EventQueue {
        guard case .object(let object) = value else { throw FormatError(reason: "not a JSON object") }
        guard let version = object["formatVersion"]?.numberValue?.intValue else { throw FormatError(reason: "no formatVersion") }
        guard version == formatVersion else { throw FormatError(reason: "unknown formatVersion \(version)") }
        guard let next = object["nextSequence"]?.numberValue?.intValue else { throw FormatError(reason: "nextSequence is not an integer") }
        guard let entries = object["events"]?.arrayValue else { throw FormatError(reason: "events is not an array") }
        var events: [(sequence: Int, event: CustomEvent)] = []
        var last = 0
        for (index, entry) in entries.enumerated() {
            let position = "event \(index + 1)"
            guard let fields = entry.objectValue else { throw FormatError(reason: "\(position): not an object") }
            guard let sequence = fields["sequence"]?.numberValue?.intValue, sequence > last else {
                throw FormatError(reason: "\(position): sequence is not an integer above the previous one")
            }
            guard let event = CustomEvent(api: fields) else {
                throw FormatError(reason: "\(position): definitionId, date or properties has the wrong type")
            }
            events.append((sequence, event))
            last = sequence
        }
        var boundaries: [Int] = []
        for value in object["depersonalizeBoundaries"]?.arrayValue ?? [] {
            guard let after = value.numberValue?.intValue else { throw FormatError(reason: "a depersonalize boundary is not an integer") }
            boundaries.append(after)
        }
        return EventQueue(restoring: events, durableBoundaries: boundaries, nextSequence: next, limits: limits)
    }
}
