import Synchronization
import JSON
import Testing

@testable import JSONRPC

/// How many handlers run at once, and the most that ever did.
private actor ConcurrencyProbe {
    private(set) var running = 0
    private(set) var peak = 0

    func enter() {
        running += 1
        peak = max(peak, running)
    }

    func leave() { running -= 1 }
}

/// The connection, for handlers that call back to the client (set once it exists).
private final class ConnectionSlot: Sendable {
    let value = Mutex<Connection?>(nil)
}

/// Input backpressure (`Options.maxMessagesInFlight`): the reader stops reading while the
/// limit of lines queued plus handlers running is reached, and every request is still
/// answered exactly once.
@Suite(.timeLimit(.minutes(1)))
struct BackpressureTests {
    @Test func theReaderStopsAtTheLimitAndResumesAsRequestsFinish() async throws {
        let gate = Gate()
        let started = Counter()
        let peer = PipedConnection(options: .init(maxMessagesInFlight: 4)) { registry in
            registry.register("wait") { _ in
                await started.increment()
                await gate.wait()
                return "done"
            }
        }
        for id in 0..<10 { peer.send(#"{"jsonrpc":"2.0","method":"wait","id":\#(id)}"#) }
        await started.wait(for: 4)
        // Without the limit all ten would start at once; give them the time to.
        try await Task.sleep(for: .milliseconds(300))
        #expect(await started.value == 4, "handlers started beyond the limit of 4")

        await gate.open()
        var ids: [Int] = []
        for _ in 0..<10 { ids.append(try #require(try await peer.next()["id"]?.numberValue?.intValue)) }
        #expect(ids.sorted() == Array(0..<10))
        #expect(await started.value == 10)
    }

    @Test func aFloodNeverRunsMoreHandlersThanTheLimit() async throws {
        let probe = ConcurrencyProbe()
        let peer = PipedConnection(options: .init(maxMessagesInFlight: 8)) { registry in
            registry.register("work", parameters: ["value"]) { parameters in
                await probe.enter()
                try? await Task.sleep(for: .microseconds(200))
                await probe.leave()
                return parameters["value"] ?? .null
            }
        }
        let count = 3000
        var input: [UInt8] = []
        for id in 0..<count {
            input += Array(#"{"jsonrpc":"2.0","method":"work","params":[\#(id)],"id":\#(id)}"#.utf8) + [0x0A]
            if id % 10 == 0 { input += Array(#"{"jsonrpc":"2.0","method":"work","params":[-1]}"#.utf8) + [0x0A] }
        }
        // From a thread of its own: the write blocks once the reader stops reading.
        let flood = input
        let writing = startThread {
            peer.sendBytes(flood)
            peer.closeInput()
        }
        #expect(writing)
        try await peer.finished()
        try expectEachEchoAnsweredOnce(try await peer.remainingLines(), count: count)
        let peak = await probe.peak
        #expect(peak <= 8, "\(peak) handlers ran at once with a limit of 8")
        #expect(peak > 1, "requests were not handled concurrently")
    }

    @Test func aBatchLargerThanTheLimitIsAnswered() async throws {
        let peer = PipedConnection(options: .init(maxMessagesInFlight: 2)) { registry in
            registry.register("echo", parameters: ["value"]) { parameters in
                try? await Task.sleep(for: .milliseconds(5))
                return parameters["value"] ?? .null
            }
        }
        let batch = (0..<10).map { #"{"jsonrpc":"2.0","method":"echo","params":[\#($0)],"id":\#($0)}"# }
        peer.send("[" + batch.joined(separator: ",") + "]")
        let response = try await peer.next()
        #expect(response.arrayValue?.compactMap { $0["result"]?.numberValue?.intValue } == Array(0..<10))
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":["after"],"id":"after"}"#)["result"] == "after")
    }

    @Test func answersFromTheClientAreReadWhileAtTheLimit() async throws {
        // Every slot is held by a handler waiting for the client: the client's answers
        // arrive on the same input and must still be read.
        let slot = ConnectionSlot()
        let peer = PipedConnection(options: .init(maxMessagesInFlight: 2)) { registry in
            registry.register("ask") { _ in
                guard let connection = slot.value.withLock({ $0 }) else { return "no connection" }
                return try await connection.request(method: "token", timeout: .seconds(20))
            }
        }
        slot.value.withLock { $0 = peer.connection }
        let count = 5
        for id in 0..<count { peer.send(#"{"jsonrpc":"2.0","method":"ask","id":\#(id)}"#) }
        var answered: [Int] = []
        while answered.count < count {
            let message = try await peer.next()
            if message["method"] == "token", let id = message["id"] {
                peer.send(#"{"jsonrpc":"2.0","id":\#(id.serialized),"result":"jwt"}"#)
            } else {
                #expect(message["result"] == "jwt", "\(message)")
                answered.append(try #require(message["id"]?.numberValue?.intValue))
            }
        }
        #expect(answered.sorted() == Array(0..<count))
    }

    @Test func theLimitBlocksOnlyWhileFull() {
        let limit = InFlightLimit(limit: 2)
        #expect(limit.acquireForLine())
        #expect(limit.acquireForLine())
        limit.take(3)  // a batch's handlers
        #expect(limit.inFlight == 5)
        limit.release(4)
        #expect(limit.acquireForLine())  // one free slot left: does not block
        #expect(limit.inFlight == 2)
        limit.close()
        #expect(!limit.acquireForLine(), "a closed limit lets the reader stop")
    }
}
