import JSON
import Logging
import Testing

@testable import JSONRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A domain error as the core throws them.
private struct DomainError: JSONRPCErrorConvertible {
    var jsonRPCError: JSONRPCError {
        JSONRPCError(code: 1001, message: "Not initialized", data: ["code": "NOT_INITIALIZED", "domain": "com.mobile-messaging"])
    }
}

/// An error with no JSON-RPC form, whose text must not reach the client.
private struct SecretError: Error, CustomStringConvertible {
    var description: String { "secret eyJhbGciOiJIUzI1NiJ9" }
}

/// The methods most tests use: echo returns its params, fail* throw.
private func standardMethods(_ registry: inout MethodRegistry) {
    registry.register("echo", parameters: ["value"]) { parameters in parameters["value"] ?? nil }
    registry.register("failDomain") { _ in throw DomainError() }
    registry.register("failSecret") { _ in throw SecretError() }
    registry.register("pair", parameters: ["pushRegistrationId", "primary"]) { parameters in
        [.string(try parameters.string("pushRegistrationId")), .bool(try parameters.bool("primary"))]
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ConnectionTests {
    // MARK: Requests and responses

    @Test(arguments: [#"1"#, #""abc""#, #"1.50"#, #"-0"#, #"1e3"#, #""""#])
    func theIDIsEchoedExactly(id: String) async throws {
        let peer = PipedConnection(register: standardMethods)
        peer.send(#"{"jsonrpc":"2.0","method":"echo","params":[7],"id":\#(id)}"#)
        #expect(try await peer.nextLine() == #"{"jsonrpc":"2.0","id":\#(id),"result":7}"#)
    }

    @Test func aNullIDIsAnsweredWithNull() async throws {
        let peer = PipedConnection(register: standardMethods)
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":null}"#) == ["jsonrpc": "2.0", "id": nil, "result": 1])
    }

    @Test func paramsByPositionAndByName() async throws {
        let peer = PipedConnection(register: standardMethods)
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"pair","params":["a",true],"id":1}"#)["result"] == ["a", true])
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"pair","params":{"primary":false,"pushRegistrationId":"b"},"id":2}"#)["result"] == ["b", false])
    }

    @Test func invalidParamsNameTheField() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call(#"{"jsonrpc":"2.0","method":"pair","params":{"pushRegistrationId":"a","primary":"yes"},"id":3}"#)
        #expect(response["id"] == 3)
        #expect(response[path: "error.code"] == -32602)
        #expect(response[path: "error.message"] == "Invalid params: primary must be a boolean, got a string")
        #expect(response[path: "error.data.field"] == "primary")
    }

    @Test func domainErrorsKeepTheirForm() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call(#"{"jsonrpc":"2.0","method":"failDomain","id":"d"}"#)
        #expect(response == ["jsonrpc": "2.0", "id": "d", "error": ["code": 1001, "message": "Not initialized", "data": ["code": "NOT_INITIALIZED", "domain": "com.mobile-messaging"]]])
    }

    @Test func otherErrorsBecomeInternalErrorsWithoutTheirText() async throws {
        let peer = PipedConnection(register: standardMethods)
        let line = try await { peer.send(#"{"jsonrpc":"2.0","method":"failSecret","id":1}"#); return try await peer.nextLine() }()
        #expect(!line.contains("secret") && !line.contains("eyJ"))
        let response = try JSONParser.parse(line)
        #expect(response[path: "error.code"] == -32603)
        #expect(response[path: "error.data.code"] == "INTERNAL_ERROR")
    }

    @Test func anUnknownMethodIsNotFound() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call(#"{"jsonrpc":"2.0","method":"foobar","id":"1"}"#)
        #expect(response["id"] == "1")
        #expect(response[path: "error.code"] == -32601)
    }

    // MARK: Framing and parsing errors

    @Test func aParseErrorIsAnsweredWithNullAndServingContinues() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call(#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#)
        #expect(response["id"] == .null)
        #expect(response[path: "error.code"] == -32700)
        #expect(response[path: "error.data.code"] == "PARSE_ERROR")
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":2}"#)["result"] == 1)
    }

    @Test func invalidUTF8IsAParseError() async throws {
        let peer = PipedConnection(register: standardMethods)
        peer.sendBytes(Array(#"{"jsonrpc":"2.0","method":"echo","params":[""#.utf8) + [0xC3, 0x28] + Array(#""],"id":1}"#.utf8) + [0x0A])
        let response = try await peer.next()
        #expect(response["id"] == .null)
        #expect(response[path: "error.code"] == -32700)
        #expect(response[path: "error.message"]?.stringValue?.contains("invalid UTF-8") == true)
    }

    @Test func tooDeepNestingIsAParseError() async throws {
        let peer = PipedConnection(register: standardMethods)
        peer.send(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        let response = try await peer.next()
        #expect(response["id"] == .null)
        #expect(response[path: "error.code"] == -32700)
        #expect(response[path: "error.data.code"] == "NESTING_TOO_DEEP")
        #expect(response[path: "error.message"]?.stringValue?.contains("nesting deeper than 128 levels") == true)
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":2}"#)["result"] == 1)
    }

    @Test func aLineOverTheLimitIsAnsweredThenTheNextIsServed() async throws {
        let peer = PipedConnection(options: .init(maxLineBytes: 1000), register: standardMethods)
        peer.send(#"{"jsonrpc":"2.0","method":"echo","params":[""# + String(repeating: "x", count: 5000) + #""],"id":1}"#)
        peer.send(#"{"jsonrpc":"2.0","method":"echo","params":["ok"],"id":2}"#)
        let error = try await peer.next()
        #expect(error["id"] == .null)
        #expect(error[path: "error.code"] == -32600)
        #expect(error[path: "error.message"] == "Invalid Request: line exceeds 1000 bytes")
        #expect(error[path: "error.data.code"] == "LINE_TOO_LONG")
        #expect(try await peer.next() == ["jsonrpc": "2.0", "id": 2, "result": "ok"])
    }

    // MARK: Batches

    @Test func anEmptyBatchIsOneInvalidRequest() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call("[]")
        #expect(response["id"] == .null)
        #expect(response[path: "error.code"] == -32600)
    }

    @Test func aBatchOfOneInvalidElementIsAnArrayOfOneError() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call("[1]")
        #expect(response.arrayValue?.count == 1)
        #expect(response.arrayValue?.first?[path: "error.code"] == -32600)
        #expect(response.arrayValue?.first?["id"] == .null)
        #expect(try await peer.call("[1,2,3]").arrayValue?.count == 3)
    }

    @Test func aMixedBatchAnswersEachRequestInOrder() async throws {
        let peer = PipedConnection(register: standardMethods)
        let response = try await peer.call(
            """
            [{"jsonrpc":"2.0","method":"echo","params":[1],"id":"1"},\
            {"jsonrpc":"2.0","method":"echo","params":[7]},\
            {"jsonrpc":"2.0","method":"pair","params":["a",true],"id":"2"},\
            {"foo":"boo"},\
            {"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},\
            {"jsonrpc":"2.0","method":"failDomain","id":"9"}]
            """)
        let elements = try #require(response.arrayValue)
        #expect(elements.count == 5)
        #expect(elements[0] == ["jsonrpc": "2.0", "id": "1", "result": 1])
        #expect(elements[1] == ["jsonrpc": "2.0", "id": "2", "result": ["a", true]])
        #expect(elements[2]["id"] == .null)
        #expect(elements[2][path: "error.code"] == -32600)
        #expect(elements[3]["id"] == "5")
        #expect(elements[3][path: "error.code"] == -32601)
        #expect(elements[4]["id"] == "9")
        #expect(elements[4][path: "error.code"] == 1001)
    }

    @Test func anAllNotificationBatchWritesNothing() async throws {
        let calls = Counter()
        let peer = PipedConnection { registry in
            registry.register("note", parameters: ["n"]) { _ in
                await calls.increment()
                return nil
            }
            standardMethods(&registry)
        }
        peer.send(#"[{"jsonrpc":"2.0","method":"note","params":[1]},{"jsonrpc":"2.0","method":"note","params":[2]}]"#)
        await calls.wait(for: 2)
        // The next thing written is the answer to the next request: the batch wrote nothing.
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":["after"],"id":1}"#)["result"] == "after")
    }

    @Test func aBatchIsAnsweredOnceAllItsRequestsAreDone() async throws {
        let gate = Gate()
        let peer = PipedConnection { registry in
            registry.register("slow") { _ in
                await gate.wait()
                return "slow"
            }
            standardMethods(&registry)
        }
        peer.send(#"[{"jsonrpc":"2.0","method":"slow","id":1},{"jsonrpc":"2.0","method":"echo","params":["fast"],"id":2}]"#)
        // A request sent after the batch overtakes it while the batch waits.
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":["other"],"id":3}"#)["id"] == 3)
        await gate.open()
        #expect(try await peer.next() == [["jsonrpc": "2.0", "id": 1, "result": "slow"], ["jsonrpc": "2.0", "id": 2, "result": "fast"]])
    }

    // MARK: Concurrency and exactly-once

    @Test func requestsAreHandledConcurrently() async throws {
        let gate = Gate()
        let peer = PipedConnection { registry in
            registry.register("wait") { _ in
                await gate.wait()
                return "waited"
            }
            registry.register("open") { _ in
                await gate.open()
                return "opened"
            }
        }
        peer.send(#"{"jsonrpc":"2.0","method":"wait","id":1}"#)
        peer.send(#"{"jsonrpc":"2.0","method":"open","id":2}"#)
        // `wait` can only finish because `open` ran while it was waiting.
        let first = try await peer.next()
        let second = try await peer.next()
        #expect(Set([first["id"], second["id"]].compactMap { $0?.numberValue?.intValue }) == [1, 2])
    }

    @Test func everyPipelinedRequestIsAnsweredExactlyOnce() async throws {
        let peer = PipedConnection(register: standardMethods)
        let count = 1000
        var input = ""
        for id in 0..<count {
            input += #"{"jsonrpc":"2.0","method":"echo","params":[\#(id)],"id":\#(id)}"# + "\n"
            if id % 10 == 0 { input += #"{"jsonrpc":"2.0","method":"echo","params":[-1]}"# + "\n" }  // notifications
        }
        peer.sendBytes(Array(input.utf8))
        peer.closeInput()
        try await peer.finished()
        try expectEachEchoAnsweredOnce(try await peer.remainingLines(), count: count)
    }

    // MARK: Notifications

    @Test func notificationsRunButAreNeverAnswered() async throws {
        let calls = Counter()
        let peer = PipedConnection { registry in
            registry.register("note") { _ in
                await calls.increment()
                throw DomainError()  // even a failing notification is not answered
            }
            standardMethods(&registry)
        }
        peer.send(#"{"jsonrpc":"2.0","method":"note"}"#)
        peer.send(#"{"jsonrpc":"2.0","method":"unknown"}"#)
        peer.send(#"{"jsonrpc":"2.0","method":"pair","params":[1,2,3]}"#)
        await calls.wait(for: 1)
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":["next"],"id":1}"#)["result"] == "next")
    }

    // MARK: Shutdown

    @Test func runningRequestsAreAnsweredAfterTheInputEnds() async throws {
        let peer = PipedConnection { registry in
            registry.register("slow") { _ in
                try await Task.sleep(for: .milliseconds(300))
                return "done"
            }
        }
        peer.send(#"{"jsonrpc":"2.0","method":"slow","id":1}"#)
        peer.send(#"[{"jsonrpc":"2.0","method":"slow","id":2}]"#)
        peer.closeInput()
        try await peer.finished()
        let lines = try await peer.remainingLines()
        #expect(lines.count == 2)
        #expect(lines.contains(#"{"jsonrpc":"2.0","id":1,"result":"done"}"#))
        #expect(lines.contains(#"[{"jsonrpc":"2.0","id":2,"result":"done"}]"#))
    }

    @Test func requestsStillRunningAfterTheGracePeriodAreCancelledAndAnswered() async throws {
        let cancelled = Counter()
        let peer = PipedConnection(options: .init(shutdownGracePeriod: .milliseconds(200))) { registry in
            registry.register("forever") { _ in
                // Ignores cancellation on purpose: the answer must not wait for it.
                await withTaskCancellationHandler {
                    await Gate().wait()
                } onCancel: {
                    Task { await cancelled.increment() }
                }
                return "never"
            }
            standardMethods(&registry)
        }
        peer.send(#"{"jsonrpc":"2.0","method":"forever","id":1}"#)
        peer.send(#"[{"jsonrpc":"2.0","method":"forever","id":2},{"jsonrpc":"2.0","method":"echo","params":[3],"id":3}]"#)
        peer.send(#"{"jsonrpc":"2.0","method":"forever"}"#)
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":[4],"id":4}"#)["result"] == 4)
        peer.closeInput()
        try await peer.finished()
        await cancelled.wait(for: 3)
        let lines = try await peer.remainingLines().map { try JSONParser.parse($0) }
        #expect(lines.count == 2)
        let single = try #require(lines.first { $0.objectValue != nil })
        #expect(single["id"] == 1)
        #expect(single[path: "error.code"] == -32603)
        #expect(single[path: "error.data.code"] == "CANCELLED")
        let batch = try #require(lines.first { $0.arrayValue != nil }?.arrayValue)
        #expect(batch.count == 2)
        #expect(batch[0]["id"] == 2)
        #expect(batch[0][path: "error.data.code"] == "CANCELLED")
        #expect(batch[1] == ["jsonrpc": "2.0", "id": 3, "result": 3])
    }

    @Test func shutdownStopsReadingWhileTheInputIsStillOpen() async throws {
        let peer = PipedConnection(register: standardMethods)
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}"#)["result"] == 1)
        peer.connection.shutdown()
        try await peer.finished()
        peer.send(#"{"jsonrpc":"2.0","method":"echo","params":[2],"id":2}"#)
        #expect(try await peer.remainingLines().isEmpty)
    }

    @Test func aClientThatStopsReadingEndsTheConnection() async throws {
        StandardStreams.ignoreBrokenPipe()
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        close(fromServer[0])  // the client is gone: the server's writes fail with EPIPE
        defer {
            close(toServer[1])
            close(fromServer[1])
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let connection = Connection(input: toServer[0], output: fromServer[1], logger: logger)
        var registry = MethodRegistry()
        standardMethods(&registry)
        let serving = Task { [registry] in await connection.serve(registry) }
        let line = Array(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}"#.utf8) + [0x0A]
        #expect(write(toServer[1], line, line.count) == line.count)
        await serving.value  // returns although the input is still open
    }

    // MARK: Messages to the client

    @Test func notificationsToTheClient() async throws {
        let peer = PipedConnection(register: standardMethods)
        peer.connection.notify(method: "event", params: ["eventName": "depersonalized", "payload": nil])
        #expect(try await peer.nextLine() == #"{"jsonrpc":"2.0","method":"event","params":{"eventName":"depersonalized","payload":null}}"#)
    }

    @Test func requestsToTheClientGetTheirResult() async throws {
        let peer = PipedConnection(options: .init(requestIDPrefix: "mmcore-"), register: standardMethods)
        let token = Task { try await peer.connection.request(method: "requestUserDataJwt", params: ["reason": "missing"], timeout: .seconds(10)) }
        let request = try await peer.next()
        #expect(request == ["jsonrpc": "2.0", "id": "mmcore-1", "method": "requestUserDataJwt", "params": ["reason": "missing"]])
        peer.send(#"{"jsonrpc":"2.0","id":"mmcore-1","result":"a.b.c"}"#)
        #expect(try await token.value == "a.b.c")
    }

    @Test func anErrorResponseFromTheClientIsThrown() async throws {
        let peer = PipedConnection(register: standardMethods)
        let token = Task { try await peer.connection.request(method: "requestUserDataJwt", timeout: .seconds(10)) }
        let id = try #require(try await peer.next()["id"]?.stringValue)
        peer.send(#"{"jsonrpc":"2.0","id":"\#(id)","error":{"code":5,"message":"no token"}}"#)
        await #expect(throws: OutgoingRequestError.errorResponse(JSONRPCError(code: 5, message: "no token"))) { try await token.value }
    }

    @Test func aRequestToTheClientTimesOut() async throws {
        let peer = PipedConnection(register: standardMethods)
        await #expect(throws: OutgoingRequestError.timedOut(method: "requestUserDataJwt", after: .milliseconds(100))) {
            try await peer.connection.request(method: "requestUserDataJwt", timeout: .milliseconds(100))
        }
        // A late answer is dropped, and serving goes on.
        peer.send(#"{"jsonrpc":"2.0","id":"rpc-1","result":"late"}"#)
        _ = try await peer.next()  // the request itself
        #expect(try await peer.call(#"{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}"#)["result"] == 1)
    }

    @Test func requestsToTheClientFailWhenItsInputEnds() async throws {
        let peer = PipedConnection(register: standardMethods)
        let token = Task { try await peer.connection.request(method: "requestUserDataJwt", timeout: .seconds(30)) }
        _ = try await peer.next()
        peer.closeInput()
        await #expect(throws: OutgoingRequestError.connectionClosed) { try await token.value }
        try await peer.finished()
        await #expect(throws: OutgoingRequestError.connectionClosed) {
            try await peer.connection.request(method: "requestUserDataJwt", timeout: .seconds(1))
        }
    }

    @Test func responsesFromTheClientInsideABatchAreDelivered() async throws {
        let peer = PipedConnection(register: standardMethods)
        let token = Task { try await peer.connection.request(method: "requestUserDataJwt", timeout: .seconds(10)) }
        _ = try await peer.next()
        peer.send(#"[{"jsonrpc":"2.0","id":"rpc-1","result":null}]"#)
        #expect(try await token.value == nil)
    }
}
