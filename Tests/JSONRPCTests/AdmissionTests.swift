import JSON
import Synchronization
import Testing

@testable import JSONRPC

/// The admission step runs in read order, one message after another, even when it
/// suspends; what it leaves to do runs concurrently.
@Suite(.timeLimit(.minutes(3)))
struct AdmissionTests {
    /// Records the order in which admissions ran; each suspends a little (as a hop to
    /// another actor would) before recording.
    final class Order: Sendable {
        let values = Mutex<[Int]>([])
        func append(_ value: Int) { values.withLock { $0.append(value) } }
        var current: [Int] { values.withLock { $0 } }
    }

    @Test func admissionsRunInReadOrderEvenWhenTheySuspend() async throws {
        let order = Order()
        let peer = PipedConnection { registry in
            registry.register(admitting: "take", parameters: ["n"]) { parameters in
                let n = parameters["n"]?.numberValue?.intValue ?? -1
                // Later messages suspend for less time: without ordered admission they would overtake.
                for _ in 0..<(200 - n) % 7 { await Task.yield() }
                order.append(n)
                return n % 2 == 0 ? .answered(.number(JSONNumber(n))) : .running { .number(JSONNumber(n)) }
            }
        }
        var lines = ""
        for n in 0..<200 { lines += #"{"jsonrpc":"2.0","method":"take","params":[\#(n)],"id":\#(n)}"# + "\n" }
        peer.sendBytes(Array(lines.utf8))
        var answered: Set<Int> = []
        for _ in 0..<200 {
            // A loaded machine may take long to admit the whole read (answers leave together).
            let response = try await peer.next(timeout: .seconds(60))
            let id = try #require(response["id"]?.numberValue?.intValue)
            #expect(response["result"] == .number(JSONNumber(id)))
            answered.insert(id)
        }
        #expect(answered.count == 200)
        #expect(order.current == Array(0..<200))
    }

    @Test func anAdmissionThatThrowsIsAnsweredWithoutATask() async throws {
        let peer = PipedConnection { registry in
            registry.register(admitting: "refuse") { _ in throw JSONRPCError.invalidParams(field: "x", "is wrong") }
        }
        let response = try await peer.call(#"{"jsonrpc":"2.0","method":"refuse","id":1}"#)
        #expect(response["error"]?["code"] == -32602)
        #expect(response["error"]?["data"]?["field"] == "x")
    }

    @Test func aBatchKeepsItsSlotsWhenItsWorkFinishesDuringAdmission() async throws {
        let peer = PipedConnection { registry in
            registry.register(admitting: "now", parameters: ["n"]) { parameters in .answered(parameters["n"] ?? .null) }
            registry.register(admitting: "soon", parameters: ["n"]) { parameters in
                let value = parameters["n"] ?? .null
                return .running { value }
            }
            registry.register(admitting: "slowAdmit", parameters: ["n"]) { parameters in
                try await Task.sleep(for: .milliseconds(20))
                return .answered(parameters["n"] ?? .null)
            }
        }
        let response = try await peer.call(
            #"[{"jsonrpc":"2.0","method":"soon","params":[1],"id":1},{"jsonrpc":"2.0","method":"slowAdmit","params":[2],"id":2},{"jsonrpc":"2.0","method":"now","params":[3]},{"jsonrpc":"2.0","method":"now","params":[4],"id":4}]"#
        )
        #expect(response.arrayValue?.map { $0["result"] } == [1, 2, 4])
    }
}
