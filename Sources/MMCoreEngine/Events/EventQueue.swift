import JSON

/// The events accepted by `submitEvent` and not delivered yet, oldest first, and the
/// person boundaries between them. A pure value: ``HeldEvents`` persists it
/// (``EventQueueFile``) and ``EventsService`` sends what ``nextBatch()`` says.
///
/// **Boundaries.** The Mobile API attributes an event to the person its installation
/// belongs to *when the event arrives*. So a `personalize` or `depersonalize` opens a
/// boundary when it is admitted, after the last event submitted before it: nothing
/// behind a boundary is sent until the call it stands for has taken effect, and that
/// call first sends what is in front of it. A boundary of a running call lives in
/// memory; a `depersonalize` kept for a retry makes its boundary durable (written with
/// the events), and it is closed when the queued request leaves the sync queue.
struct EventQueue: Sendable, Equatable {
    struct Held: Sendable, Equatable {
        /// Increasing in call order, never reused within a process or a file.
        let sequence: Int
        let event: CustomEvent
        /// Its size as sent.
        let bytes: Int
    }

    struct Boundary: Sendable, Equatable {
        let id: Int
        /// Events up to this sequence go before the call.
        let after: Int
        /// Stands for a depersonalize in the sync queue (written to the file).
        var durable: Bool
    }

    let limits: EventQueueLimits
    private(set) var held: [Held] = []
    private(set) var boundaries: [Boundary] = []
    private(set) var heldBytes = 0
    /// The sequence of the next accepted event.
    private(set) var nextSequence = 1
    private var nextBoundaryID = 1

    init(limits: EventQueueLimits = .standard) {
        self.limits = limits
    }

    var isEmpty: Bool { held.isEmpty }

    // MARK: Accepting

    /// Why `event` cannot be accepted now (a cap is reached), or `nil`.
    func capProblem(for event: CustomEvent) -> String? {
        let bytes = Self.size(of: event)
        if held.count >= limits.maximumHeldEvents {
            return "\(held.count) events are held for delivery, the most the core keeps"
        }
        if heldBytes + bytes > limits.maximumHeldBytes {
            return "the \(held.count) events held for delivery take \(heldBytes) bytes, and this one (\(bytes) bytes) would pass the \(limits.maximumHeldBytes)-byte cap"
        }
        return nil
    }

    /// Appends `event`; the caller checked ``capProblem(for:)``.
    mutating func append(_ event: CustomEvent) {
        let bytes = Self.size(of: event)
        held.append(Held(sequence: nextSequence, event: event, bytes: bytes))
        nextSequence += 1
        heldBytes += bytes
    }

    static func size(of event: CustomEvent) -> Int { event.apiJSON.serializedBytes.count }

    // MARK: Boundaries

    /// A person-changing call was admitted: events submitted so far go before it.
    mutating func openBoundary() -> Int {
        let id = nextBoundaryID
        nextBoundaryID += 1
        boundaries.append(Boundary(id: id, after: nextSequence - 1, durable: false))
        return id
    }

    /// The call ended (done, failed, or made durable): its in-memory boundary goes.
    /// Returns whether one was removed.
    @discardableResult
    mutating func closeBoundary(_ id: Int) -> Bool {
        guard let index = boundaries.firstIndex(where: { $0.id == id && !$0.durable }) else { return false }
        boundaries.remove(at: index)
        return true
    }

    /// The call was kept in the sync queue: its boundary now lasts until the queued
    /// request is delivered or refused (and is written with the events).
    mutating func makeDurable(_ id: Int) {
        guard let index = boundaries.firstIndex(where: { $0.id == id }) else { return }
        boundaries[index].durable = true
    }

    /// Durable boundaries stand for the depersonalize requests in the sync queue, in
    /// order; when `queued` of those are left, the oldest extra ones are closed (their
    /// request was delivered or refused: they leave the sync queue oldest first).
    /// Returns whether any was.
    mutating func reconcile(queuedDepersonalizes queued: Int) -> Bool {
        var excess = boundaries.filter(\.durable).count - max(queued, 0)
        guard excess > 0 else { return false }
        boundaries.removeAll { boundary in
            guard boundary.durable, excess > 0 else { return false }
            excess -= 1
            return true
        }
        return true
    }

    var hasDurableBoundaries: Bool { boundaries.contains(where: \.durable) }

    // MARK: Delivering

    /// The oldest events in front of the first boundary, as many as one request takes.
    func nextBatch() -> [Held] {
        let limit = boundaries.first?.after ?? Int.max
        var batch: [Held] = []
        var bytes = 0
        for entry in held {
            guard entry.sequence <= limit, batch.count < limits.maximumBatchEvents,
                batch.isEmpty || bytes + entry.bytes <= limits.maximumBatchBytes
            else { break }
            batch.append(entry)
            bytes += entry.bytes
        }
        return batch
    }

    /// Whether events wait in front of the first boundary (or with none).
    var hasDeliverableEvents: Bool {
        guard let first = held.first else { return false }
        return first.sequence <= boundaries.first?.after ?? Int.max
    }

    func boundary(_ id: Int) -> Boundary? { boundaries.first { $0.id == id } }

    /// Delivered or dropped: the events of `batch` leave the queue.
    mutating func remove(_ batch: [Held]) {
        let sequences = Set(batch.map(\.sequence))
        held.removeAll { sequences.contains($0.sequence) }
        heldBytes = held.reduce(0) { $0 + $1.bytes }
    }

    /// `cleanup`: every event and boundary goes; sequences go on.
    mutating func removeAll() {
        held.removeAll()
        boundaries.removeAll()
        heldBytes = 0
    }

    // MARK: Restoring

    /// From the file: the events, the durable boundaries' positions, the next sequence.
    init(restoring events: [(sequence: Int, event: CustomEvent)], durableBoundaries: [Int], nextSequence: Int, limits: EventQueueLimits) {
        self.limits = limits
        held = events.map { Held(sequence: $0.sequence, event: $0.event, bytes: Self.size(of: $0.event)) }
        heldBytes = held.reduce(0) { $0 + $1.bytes }
        self.nextSequence = max(nextSequence, (held.last?.sequence ?? 0) + 1)
        for after in durableBoundaries {
            boundaries.append(Boundary(id: nextBoundaryID, after: after, durable: true))
            nextBoundaryID += 1
        }
    }
}
