/// The transport seam: a ``Connection`` reads lines from a ``LineInput`` and writes
/// messages to a ``MessageOutput``, so the stdio host (``LineReader`` and
/// ``MessageWriter`` on descriptors) and an in-process host (``LineFeed`` and
/// ``CallbackOutput``) are two transports of one engine.

/// Where a connection's outgoing messages go.
public protocol MessageOutput: Sendable {
    /// Queues one message: `message` is its JSON, without a line ending. Returns at once;
    /// never waits for the client.
    func send(_ message: [UInt8])

    /// Queues one message that `write` appends (its JSON, without a line ending).
    func send(writing write: (inout [UInt8]) -> Void)

    /// Holds what is sent from now on until the matching ``releaseHold()``: the answers
    /// to one read's lines may then leave together. An output that delivers message by
    /// message anyway may ignore it.
    func hold()
    func releaseHold()

    /// Returns once everything sent before the call has been delivered (or dropped,
    /// because the client is gone).
    func flush() async
}

extension MessageWriter: MessageOutput {}

/// Where a connection's incoming lines come from: framed by ``LineFramer`` and bounded by
/// the connection's ``InFlightLimit``. Internal: the two inputs are this module's own.
protocol LineInput: Sendable {
    /// The lines of each read (or each feed) together, each line holding its slot.
    var batches: AsyncStream<[LineEvent]> { get }
    /// Begins producing events (the reader's thread); called once by ``Connection/serve(_:)``.
    func start()
    /// Ends the events now; lines produced but not consumed are dropped (see `isStopped`).
    func stop()
    var isStopped: Bool { get }
}

extension LineReader: LineInput {}
