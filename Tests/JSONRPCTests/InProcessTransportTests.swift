import JSON
import Logging
import TestSupport
import Testing

@testable import JSONRPC

/// A ``Connection`` on the in-process transport: fed by ``LineFeed`` calls, answering
/// through a ``CallbackOutput``, with the framing, limits and backpressure of stdin.
private final class FedConnection: Sendable {
    let connection: Connection
    let feed: LineFeed
    let output = LineQueue()
    let serving: Task<Void, Never>
    private let pumping: Task<Void, Never>
    private let delivered: AsyncStream<[UInt8]>.Continuation

    init(options: Connection.Options = .init(), register: (inout MethodRegistry) -> Void) {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        feed = LineFeed(options: options)
        // The callback hands each message on in order; a task moves them to the inbox.
        let (messages, delivered) = AsyncStream.makeStream(of: [UInt8].self)
        self.delivered = delivered
        let callbacks = CallbackOutput { message in delivered.yield(message) }
        let output = output
        pumping = Task {
            for await message in messages { output.push(message) }
        }
        connection = Connection(input: feed, output: callbacks, options: options, logger: logger)
        var registry = MethodRegistry()
        register(&registry)
        let connection = connection
        serving = Task { [registry] in await connection.serve(registry) }
    }

    deinit {
        delivered.finish()  // ends the pump
    }

    /// Feeds from a thread of its own, since a feed may wait for the limit.
    func feed(_ text: String) async -> Bool {
        let feed = feed
        return await withCheckedContinuation { continuation in
            guard startThread({ continuation.resume(returning: feed.feed(Array(text.utf8))) }) else {
                continuation.resume(returning: false)
                return
            }
        }
    }

    func next() async throws -> JSONValue {
        guard let line = try await output.next(timeout: .seconds(10)) else { throw TestTimeout(what: "a line (output ended)") }
        return try JSONParser.parse(line)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct InProcessTransportTests {
    private static func echo(_ registry: inout MethodRegistry) {
        registry.register("echo", parameters: ["value"]) { $0["value"] ?? .null }
    }

    @Test func aLineSplitAcrossFeedsIsOneMessage() async throws {
        let peer = FedConnection(register: Self.echo)
        for byte in Array(#"{"jsonrpc":"2.0","method":"echo","params":[7],"id":1}"#.utf8) + Array("\r\n".utf8) {
            #expect(await peer.feed(String(decoding: [byte], as: UTF8.self)))
        }
        let response = try await peer.next()
        #expect(response["id"] == 1 && response["result"] == 7, "\(response)")
    }

    @Test func finishIsTheEndOfInputAndTheLastLineNeedsNoNewline() async throws {
        let peer = FedConnection(register: Self.echo)
        #expect(await peer.feed(#"{"jsonrpc":"2.0","method":"echo","params":["a"],"id":1}"# + "\n" + #"{"jsonrpc":"2.0","method":"echo","params":["b"],"id":2}"#))
        peer.feed.finish()
        await peer.serving.value
        // serve flushed the output before returning: both answers are already delivered.
        let ids = [try await peer.next()["id"], try await peer.next()["id"]]
        #expect(Set(ids.compactMap { $0?.numberValue?.intValue }) == [1, 2])
        #expect(await peer.feed("{}\n") == false, "input after the end is refused")
    }

    /// A connection whose one method, `wait`, counts itself started and then waits for `gate`.
    fileprivate static func waitingPeer(_ options: Connection.Options, started: Counter, gate: Gate) -> FedConnection {
        FedConnection(options: options) { registry in
            registry.register("wait") { _ in
                await started.increment()
                await gate.wait()
                return "done"
            }
        }
    }

    /// `count` `wait` requests, ids 0..<count, one per line.
    static func waitRequests(_ count: Int) -> String {
        (0..<count).map { #"{"jsonrpc":"2.0","method":"wait","id":\#($0)}"# + "\n" }.joined()
    }

    @Test func aFeedWaitsAtTheLimitAndReturnsAsRequestsFinish() async throws {
        let gate = Gate()
        let started = Counter()
        let peer = Self.waitingPeer(.init(maxMessagesInFlight: 2), started: started, gate: gate)
        let input = Self.waitRequests(6)
        let feeding = Task { await peer.feed(input) }
        await started.wait(for: 2)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await started.value == 2, "handlers started beyond the limit of 2")
        await gate.open()
        #expect(await feeding.value, "the feed returned once requests finished")
        var ids: [Int] = []
        for _ in 0..<6 { ids.append(try #require(try await peer.next()["id"]?.numberValue?.intValue)) }
        #expect(ids.sorted() == Array(0..<6))
    }

    @Test func shutdownWakesAFeedWaitingForTheLimit() async throws {
        let gate = Gate()
        let started = Counter()
        let peer = Self.waitingPeer(.init(shutdownGracePeriod: .milliseconds(100), maxMessagesInFlight: 1), started: started, gate: gate)
        let input = Self.waitRequests(4)
        let feeding = Task { await peer.feed(input) }
        // The first request runs (and holds the only slot), so the feed waits for the limit.
        await started.wait(for: 1)
        try await Task.sleep(for: .milliseconds(100))
        peer.connection.shutdown()
        #expect(await feeding.value == false, "the waiting feed was told the input is gone")
        await peer.serving.value
        let cancelled = try await peer.next()
        #expect(cancelled["id"] == 0 && cancelled[path: "error.data.code"] == "CANCELLED", "\(cancelled)")
        await gate.open()
    }
}
