/// Where each request's one response goes: the requests whose work is running and the
/// batches being assembled. The single place a response is claimed, so no request is
/// answered twice (a request cancelled at shutdown and then finishing) or not at all.
///
/// A value owned by ``Connection``: it decides what to write, the connection writes it.
struct ReplyTable {
    /// Where the response of a running request goes.
    enum Reply {
        case none  // a notification
        case single(RequestID?)
        case batch(UInt64, slot: Int, RequestID?)

        /// The id to answer, `nil` for a notification.
        var id: RequestID?? {
            switch self {
            case .none: .none
            case .single(let id), .batch(_, _, let id): .some(id)
            }
        }
    }

    private struct Running {
        let reply: Reply
        let task: Task<Void, Never>
    }

    private struct PendingBatch {
        var slots: [[UInt8]?] = []
        var remaining = 0
        /// Still being admitted: more slots may come, so it is not sent when `remaining` hits 0.
        var admitting = true
    }

    private var nextKey: UInt64 = 0
    private var running: [UInt64: Running] = [:]
    private var batches: [UInt64: PendingBatch] = [:]

    var runningCount: Int { running.count }

    mutating func newKey() -> UInt64 {
        nextKey += 1
        return nextKey
    }

    // MARK: Batches

    /// Registers a batch before any of its work starts: admission may suspend the
    /// connection, and work that completes meanwhile must find its slot.
    mutating func openBatch() -> UInt64 {
        let key = newKey()
        batches[key] = PendingBatch()
        return key
    }

    /// The slot the next element of batch `key` answers in.
    func nextSlot(in key: UInt64) -> Int { batches[key]?.slots.count ?? 0 }

    /// An element of batch `key` answered at admission.
    mutating func answer(_ response: [UInt8], inBatch key: UInt64) {
        batches[key]?.slots.append(response)
    }

    /// An element of batch `key` whose work started in `slot`.
    mutating func started(inBatch key: UInt64, slot: Int) {
        // Its work may already have completed and filled the slot.
        if batches[key]?.slots.count == slot { batches[key]?.slots.append(nil) }
        batches[key]?.remaining += 1
    }

    /// Admission of batch `key` is over: its array when nothing is left to wait for.
    mutating func closeBatch(_ key: UInt64) -> [UInt8]? {
        guard var batch = batches.removeValue(forKey: key) else { return nil }
        if batch.remaining > 0 {
            batch.admitting = false
            batches[key] = batch
            return nil
        }
        // Only notifications (and responses): nothing to say.
        return batch.slots.isEmpty ? nil : Self.array(batch.slots)
    }

    // MARK: Running requests

    mutating func start(_ key: UInt64, reply: Reply, task: Task<Void, Never>) {
        running[key] = Running(reply: reply, task: task)
    }

    /// Claims the response of running request `key`: `nil` when it was already claimed
    /// (cancelled at shutdown), else what to write now (`.some(nil)`: nothing yet, or
    /// nothing at all for a notification).
    mutating func complete(_ key: UInt64, response: [UInt8]?) -> [UInt8]?? {
        guard let entry = running.removeValue(forKey: key) else { return nil }
        return .some(place(response, for: entry.reply))
    }

    /// Claims every running request, oldest first: their tasks to cancel, and what to
    /// write once each is answered with `answer(id)`.
    mutating func claimAll(answering answer: (RequestID?) -> [UInt8]) -> (tasks: [Task<Void, Never>], output: [[UInt8]]) {
        let entries = running.sorted { $0.key < $1.key }
        running = [:]
        var output: [[UInt8]] = []
        for (_, entry) in entries {
            guard case .some(let id) = entry.reply.id, let bytes = place(answer(id), for: entry.reply) else { continue }
            output.append(bytes)
        }
        return (entries.map(\.value.task), output)
    }

    private mutating func place(_ response: [UInt8]?, for reply: Reply) -> [UInt8]? {
        guard let response else { return nil }
        switch reply {
        case .none:
            return nil
        case .single:
            return response
        case .batch(let key, let slot, _):
            guard var batch = batches[key] else { return nil }
            while batch.slots.count <= slot { batch.slots.append(nil) }
            batch.slots[slot] = response
            batch.remaining -= 1
            if batch.remaining == 0 && !batch.admitting {
                batches[key] = nil
                return Self.array(batch.slots)
            }
            batches[key] = batch
            return nil
        }
    }

    /// A batch's answer: its responses as one JSON array.
    private static func array(_ slots: [[UInt8]?]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, slot) in slots.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: slot ?? [])
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }
}
