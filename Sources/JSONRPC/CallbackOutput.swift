import Dispatch

/// The in-process output: hands each complete message to a callback, in the order sent,
/// one at a time, on a serial dispatch queue.
///
/// A queue rather than the sender's thread: messages are sent from the connection's
/// actor and the session's tasks, on the Swift concurrency pool, and a host's callback
/// may block (write to a pipe, take a lock, call back with more input) without holding
/// up the pool. The host may give its own serial queue, to run other callbacks (logs)
/// in one order with the messages.
public final class CallbackOutput: MessageOutput {
    private let queue: DispatchQueue
    private let deliver: @Sendable ([UInt8]) -> Void

    /// - Parameter deliver: receives each message's JSON, without a line ending.
    public init(queue: DispatchQueue = DispatchQueue(label: "jsonrpc.callback-output"), deliver: @escaping @Sendable ([UInt8]) -> Void) {
        self.queue = queue
        self.deliver = deliver
    }

    public func send(_ message: [UInt8]) {
        queue.async { [deliver] in deliver(message) }
    }

    public func send(writing write: (inout [UInt8]) -> Void) {
        var message: [UInt8] = []
        write(&message)
        send(message)
    }

    /// Each message is its own callback: there is nothing to gather.
    public func hold() {}
    public func releaseHold() {}

    /// The queue is serial: this block runs after every message sent before it.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { continuation.resume() }
        }
    }
}
