import JSON

/// The connection's own requests to the client that await an answer, and the numbering
/// of their ids. A value owned by ``Connection``.
struct OutgoingRequests {
    typealias Waiter = CheckedContinuation<JSONValue, any Error>

    /// Whether the client can still answer (its input has not ended).
    private(set) var isOpen = true
    private var lastNumber = 0
    private var waiting: [RequestID: Waiter] = [:]

    /// The id of the next request, `"<prefix><n>"`.
    mutating func nextID(prefix: String) -> RequestID {
        lastNumber += 1
        return .string("\(prefix)\(lastNumber)")
    }

    mutating func wait(_ id: RequestID, _ waiter: Waiter) { waiting[id] = waiter }

    /// The waiter of `id`, claimed: `nil` when it was answered (or failed) already.
    mutating func claim(_ id: RequestID) -> Waiter? { waiting.removeValue(forKey: id) }

    /// The input ended: no answer can come; every waiter, claimed.
    mutating func close() -> [(RequestID, Waiter)] {
        isOpen = false
        defer { waiting = [:] }
        return waiting.map { ($0.key, $0.value) }
    }
}
