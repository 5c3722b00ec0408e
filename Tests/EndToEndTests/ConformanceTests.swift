import Foundation
import JSON
import Testing

/// The JSON-RPC surface of the built `mmcore`, black-box: what a wrapper sees on stdio.
@Suite(.timeLimit(.minutes(2)))
struct ConformanceTests {
    // MARK: Helpers

    /// A response to `id` that is a result or an application error: not a protocol error,
    /// since the request was well formed. (Holds whatever the core's methods answer.)
    private func expectAnswered(_ response: JSONValue, id: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response["jsonrpc"] == "2.0", sourceLocation: sourceLocation)
        #expect(response["id"] == id, sourceLocation: sourceLocation)
        let hasResult = response["result"] != nil
        let error = response["error"]
        #expect(hasResult != (error != nil), "exactly one of result and error: \(response)", sourceLocation: sourceLocation)
        if let code = error?["code"]?.numberValue?.intValue {
            #expect(!(-32768...(-32000)).contains(code), "a protocol error for a valid request: \(response)", sourceLocation: sourceLocation)
            #expect(error?["data"]?["code"]?.stringValue != nil, "error data has a string code: \(response)", sourceLocation: sourceLocation)
        }
    }

    private func expectError(
        _ response: JSONValue, code: Int, id: JSONValue = nil, dataCode: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response["jsonrpc"] == "2.0", sourceLocation: sourceLocation)
        #expect(response["id"] == id, "\(response)", sourceLocation: sourceLocation)
        #expect(response["result"] == nil, sourceLocation: sourceLocation)
        #expect(response["error"]?["code"] == .number(JSONNumber(code)), "\(response)", sourceLocation: sourceLocation)
        #expect(response["error"]?["message"]?.stringValue != nil, sourceLocation: sourceLocation)
        if let dataCode {
            #expect(response["error"]?["data"]?["code"] == .string(dataCode), "\(response)", sourceLocation: sourceLocation)
        }
    }

    /// Sends `line` and returns the next message, which must answer it.
    private func exchange(_ core: CoreProcess, _ line: String) async throws -> JSONValue {
        try core.send(line)
        return try await core.readMessage()
    }

    /// Proves that nothing was written for what was sent before: the next message is the
    /// response to a fresh request.
    private func expectNothingPending(_ core: CoreProcess, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":"getUser","id":"probe"}"#)
        #expect(response["id"] == "probe", "something was written before the probe's response: \(response)", sourceLocation: sourceLocation)
    }

    private static func schemaText() throws -> String {
        try String(contentsOf: CoreProcess.packageRoot.appendingPathComponent("schema/openrpc.json"), encoding: .utf8)
    }

    // MARK: JSON-RPC 2.0 specification, section 7 (adapted to our methods)

    @Test func callWithPositionalParameters() async throws {
        let core = try CoreProcess()
        expectAnswered(try await exchange(core, #"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":["reg-1",true],"id":1}"#), id: 1)
        expectAnswered(try await exchange(core, #"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":["reg-1",false],"id":2}"#), id: 2)
    }

    @Test func callWithNamedParameters() async throws {
        let core = try CoreProcess()
        expectAnswered(
            try await exchange(core, #"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":{"pushRegistrationId":"reg-1","primary":true},"id":3}"#), id: 3)
        expectAnswered(
            try await exchange(core, #"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":{"primary":true,"pushRegistrationId":"reg-1"},"id":4}"#), id: 4)
    }

    @Test func notificationsAreNotAnswered() async throws {
        let core = try CoreProcess()
        try core.send(#"{"jsonrpc":"2.0","method":"getUser","params":[]}"#)
        try core.send(#"{"jsonrpc":"2.0","method":"foobar"}"#)
        try await expectNothingPending(core)
    }

    @Test func callOfANonExistentMethod() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":"foobar","id":"1"}"#)
        expectError(response, code: -32601, id: "1", dataCode: "METHOD_NOT_FOUND")
    }

    @Test func callWithInvalidJSON() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]"#)
        expectError(response, code: -32700, dataCode: "PARSE_ERROR")
    }

    @Test func callWithAnInvalidRequestObject() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":1,"params":"bar"}"#)
        expectError(response, code: -32600, dataCode: "INVALID_REQUEST")
    }

    @Test func batchWithInvalidJSON() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"[{"jsonrpc":"2.0","method":"getUser","params":[],"id":"1"},{"jsonrpc":"2.0","method"]"#)
        expectError(response, code: -32700)
    }

    @Test func emptyBatch() async throws {
        let core = try CoreProcess()
        expectError(try await exchange(core, "[]"), code: -32600)
    }

    @Test func invalidBatchOfOne() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, "[1]")
        let elements = try #require(response.arrayValue, "\(response)")
        #expect(elements.count == 1)
        expectError(elements[0], code: -32600)
    }

    @Test func invalidBatch() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, "[1,2,3]")
        let elements = try #require(response.arrayValue, "\(response)")
        #expect(elements.count == 3)
        for element in elements { expectError(element, code: -32600) }
    }

    @Test func batchOfCallsNotificationsAndErrors() async throws {
        let core = try CoreProcess()
        let response = try await exchange(
            core,
            """
            [{"jsonrpc":"2.0","method":"getUser","params":[],"id":"1"},\
            {"jsonrpc":"2.0","method":"getInstallation","params":[]},\
            {"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":["reg-1",true],"id":"2"},\
            {"foo":"boo"},\
            {"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},\
            {"jsonrpc":"2.0","method":"fetchUser","id":"9"}]
            """)
        let elements = try #require(response.arrayValue, "\(response)")
        #expect(elements.count == 5)
        let byID = Dictionary(grouping: elements) { $0["id"]?.stringValue ?? "null" }
        #expect(byID.mapValues(\.count) == ["1": 1, "2": 1, "null": 1, "5": 1, "9": 1])
        expectAnswered(try #require(byID["1"]?.first), id: "1")
        expectAnswered(try #require(byID["2"]?.first), id: "2")
        expectError(try #require(byID["null"]?.first), code: -32600)
        expectError(try #require(byID["5"]?.first), code: -32601, id: "5")
        expectAnswered(try #require(byID["9"]?.first), id: "9")
    }

    @Test func batchOfNotificationsOnly() async throws {
        let core = try CoreProcess()
        try core.send(#"[{"jsonrpc":"2.0","method":"getUser","params":[]},{"jsonrpc":"2.0","method":"getInstallation"}]"#)
        try await expectNothingPending(core)
    }

    // MARK: Malformed requests

    @Test(arguments: [#"[]"#, #"{}"#, #"true"#, #"[1]"#, #"{"a":1}"#])
    func unreadableIDsAreAnsweredWithNull(id: String) async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":"getUser","id":\#(id)}"#)
        expectError(response, code: -32600, dataCode: "INVALID_REQUEST")
    }

    @Test(arguments: [#""jsonrpc":"1.0","#, #""jsonrpc":2.0,"#, #""jsonrpc":"2.0 ","#, ""])
    func theVersionMustBeExactly2_0(member: String) async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{\#(member)"method":"getUser","id":7}"#)
        expectError(response, code: -32600, id: 7, dataCode: "INVALID_REQUEST")
    }

    @Test(arguments: [#""#, #","method":1"#, #","method":null"#, #","method":["getUser"]"#, #","method":{"name":"getUser"}"#])
    func aMissingOrNonStringMethodIsInvalid(member: String) async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","id":"m"\#(member)}"#)
        expectError(response, code: -32600, id: "m", dataCode: "INVALID_REQUEST")
    }

    @Test(arguments: [#"3"#, #""bar""#, #"true"#, #"null"#])
    func paramsMustBeStructured(params: String) async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":"getUser","params":\#(params),"id":8}"#)
        expectError(response, code: -32600, id: 8, dataCode: "INVALID_REQUEST")
    }

    @Test(arguments: [#"1"#, #"-7"#, #"1.50"#, #"1e3"#, #"12345678901234567890"#, #""abc""#, #""""#, #""ü \"x\"""#])
    func idsAreEchoedExactly(id: String) async throws {
        let core = try CoreProcess()
        let line = try await { () async throws -> String in
            try core.send(#"{"jsonrpc":"2.0","method":"getUser","id":\#(id)}"#)
            return try await core.readLine()
        }()
        #expect(line.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"#), "\(line)")
    }

    @Test func tooManyPositionalParamsAreInvalidParams() async throws {
        let core = try CoreProcess()
        let response = try await exchange(core, #"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":["reg-1",true,"extra"],"id":1}"#)
        expectError(response, code: -32602, id: 1, dataCode: "INVALID_PARAMS")
        #expect(response["error"]?["data"]?["field"] == "params")
    }

    // MARK: Limits

    @Test func deepNestingIsAParseErrorAndServingGoesOn() async throws {
        let core = try CoreProcess()
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let response = try await exchange(core, deep)
        expectError(response, code: -32700, dataCode: "NESTING_TOO_DEEP")
        let deepObject = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        expectError(try await exchange(core, deepObject), code: -32700, dataCode: "NESTING_TOO_DEEP")
        try await expectNothingPending(core)
    }

    @Test func aLineOverTheDefaultLimitIsAnsweredAndServingGoesOn() async throws {
        let core = try CoreProcess()
        let big = #"{"jsonrpc":"2.0","method":"saveUser","params":[{"firstName":""# + String(repeating: "x", count: 5 * 1024 * 1024) + #""}],"id":1}"#
        let response = try await exchange(core, big)
        expectError(response, code: -32600, dataCode: "LINE_TOO_LONG")
        #expect(response["error"]?["message"] == "Invalid Request: line exceeds 1048576 bytes")
        #expect(response["error"]?["data"]?["maxLineBytes"] == 1_048_576)
        try await expectNothingPending(core)
    }

    @Test func theLineLimitIsConfigurable() async throws {
        let core = try CoreProcess(arguments: ["--max-line-bytes", "1024"])
        let line = #"{"jsonrpc":"2.0","method":"getUser","id":1,"pad":""# + String(repeating: "x", count: 2000) + #""}"#
        let response = try await exchange(core, line)
        expectError(response, code: -32600, dataCode: "LINE_TOO_LONG")
        #expect(response["error"]?["message"] == "Invalid Request: line exceeds 1024 bytes")
        try await expectNothingPending(core)
    }

    @Test func invalidUTF8IsAParseError() async throws {
        let core = try CoreProcess()
        try core.sendBytes(Array(#"{"jsonrpc":"2.0","method":"getUser","id":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8) + [0x0A])
        expectError(try await core.readMessage(), code: -32700, dataCode: "PARSE_ERROR")
        try await expectNothingPending(core)
    }

    @Test func crlfLineEndingsAndBlankLinesAreAccepted() async throws {
        let core = try CoreProcess()
        try core.sendBytes(Array("\r\n\n   \n{\"jsonrpc\":\"2.0\",\"method\":\"getUser\",\"id\":\"crlf\"}\r\n".utf8))
        expectAnswered(try await core.readMessage(), id: "crlf")
    }

    // MARK: Throughput and exactly-once

    @Test func pipelinedRequestsAreEachAnsweredOnce() async throws {
        let core = try CoreProcess()
        let count = 1000
        let methods = ["getUser", "getInstallation", "fetchUser", "setInstallationAsPrimary", "foobar"]
        var input = ""
        for id in 0..<count {
            let method = methods[id % methods.count]
            let params = method == "setInstallationAsPrimary" ? #"["reg-1",true]"# : "[]"
            input += #"{"jsonrpc":"2.0","method":"\#(method)","params":\#(params),"id":\#(id)}"# + "\n"
        }
        try core.sendBytes(Array(input.utf8))
        var seen: [Int: Int] = [:]
        for _ in 0..<count {
            let response = try await core.readMessage()
            let id = try #require(response["id"]?.numberValue?.intValue, "\(response)")
            seen[id, default: 0] += 1
        }
        #expect(seen.count == count)
        #expect(seen.values.allSatisfy { $0 == 1 })
        try core.closeInput()
        #expect(try await core.remainingLines().isEmpty)
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
    }

    // MARK: Process lifecycle

    @Test func endOfInputWithRequestsInFlightAnswersThemAllThenExitsZero() async throws {
        let core = try CoreProcess()
        var input = ""
        for id in 0..<200 { input += #"{"jsonrpc":"2.0","method":"fetchUser","id":\#(id)}"# + "\n" }
        input += #"[{"jsonrpc":"2.0","method":"getUser","id":"b1"},{"jsonrpc":"2.0","method":"getInstallation","id":"b2"}]"# + "\n"
        try core.sendBytes(Array(input.utf8))
        try core.closeInput()
        let lines = try await core.remainingLines()
        #expect(lines.count == 201)
        let ids = try lines.flatMap { line -> [JSONValue] in
            let message = try JSONParser.parse(line)
            return message.arrayValue?.compactMap { $0["id"] } ?? [message["id"] ?? .null]
        }
        #expect(ids.count == 202)
        #expect(Set(ids.compactMap { $0.numberValue?.intValue }) == Set(0..<200))
        #expect(Set(ids.compactMap(\.stringValue)) == ["b1", "b2"])
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
    }

    @Test func sigtermExitsZero() async throws {
        let core = try CoreProcess()
        expectAnswered(try await exchange(core, #"{"jsonrpc":"2.0","method":"getUser","id":1}"#), id: 1)
        core.terminate()
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
        #expect(try await core.remainingLines().isEmpty)
    }

    @Test func stdoutCarriesOnlyJSONRPCLines() async throws {
        let core = try CoreProcess(arguments: ["--log-level", "trace"])
        try core.send("not json")
        try core.send(#"{"jsonrpc":"2.0","method":"getUser","id":1}"#)
        try core.send(#"{"jsonrpc":"2.0","method":"foobar"}"#)
        try core.send(String(repeating: "x", count: 2 * 1024 * 1024))
        try core.send(#"[{"jsonrpc":"2.0","method":"getUser","id":2},5]"#)
        try core.send(#"{"jsonrpc":"2.0","id":"mmcore-404","result":"an answer to nothing"}"#)
        _ = try await core.request("rpc.discover")
        try core.closeInput()
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
        let output = core.standardOutputBytes
        #expect(output.last == 0x0A)
        let lines = output.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 5)
        for line in lines {
            let message = try JSONParser.parse(line)
            let objects = message.arrayValue ?? [message]
            #expect(objects.allSatisfy { $0["jsonrpc"] == "2.0" }, "\(message)")
        }
        #expect(core.standardError.contains("mmcore"), "logs go to stderr")
    }

    // MARK: Command line and schema

    @Test func versionPrintsTheSchemaVersion() async throws {
        let core = try CoreProcess(arguments: ["--version"])
        let line = try await core.readLine()
        let schema = try JSONParser.parse(try Self.schemaText())
        let version = try #require(schema["info"]?["version"]?.stringValue)
        #expect(line == "mmcore \(version)")
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
    }

    @Test func printSchemaIsTheSchemaFile() async throws {
        let core = try CoreProcess(arguments: ["--print-schema"])
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
        #expect(String(decoding: core.standardOutputBytes, as: UTF8.self) == (try Self.schemaText()), "the EmbedSchema plugin embeds schema/openrpc.json")
    }

    @Test func rpcDiscoverReturnsTheSchema() async throws {
        let core = try CoreProcess()
        let response = try await core.request("rpc.discover")
        #expect(response["result"] == (try JSONParser.parse(try Self.schemaText())), "the EmbedSchema plugin embeds schema/openrpc.json")
    }

    @Test func everyServedMethodIsInTheSchemaAndBack() async throws {
        let schema = try JSONParser.parse(try Self.schemaText())
        let schemaMethods = Set(try #require(schema["methods"]?.arrayValue).compactMap { $0["name"]?.stringValue })
        let core = try CoreProcess(arguments: ["--list-methods"])
        #expect(try await core.waitForExit().status == 0)
        let served = Set(String(decoding: core.standardOutputBytes, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(served.count == 18)
        #expect(served.subtracting(schemaMethods).isEmpty, "served but not in the schema: \(served.subtracting(schemaMethods))")
        #expect(schemaMethods.subtracting(served) == ["rpc.discover"], "in the schema but not served: \(schemaMethods.subtracting(served))")
    }

    @Test func everySchemaMethodIsServedWithItsPositionalParameters() async throws {
        let schema = try JSONParser.parse(try Self.schemaText())
        let methods = try #require(schema["methods"]?.arrayValue)
        let core = try CoreProcess()
        for method in methods {
            let name = try #require(method["name"]?.stringValue)
            let parameterNames = try #require(method["params"]?.arrayValue).compactMap { $0["name"]?.stringValue }
            let parameterCount = parameterNames.count
            // One more positional parameter than the schema declares must be refused by the
            // registry: the method exists and takes exactly the schema's parameters.
            let tooMany = JSONValue.array(Array(repeating: nil, count: parameterCount + 1))
            let response = try await core.request(name, params: tooMany)
            expectError(response, code: -32602, id: response["id"] ?? nil, dataCode: "INVALID_PARAMS")
            let takes = parameterNames.isEmpty ? "no parameters" : "at most \(parameterCount) (\(parameterNames.joined(separator: ", ")))"
            #expect(response["error"]?["message"]?.stringValue?.hasSuffix("\(name) takes \(takes)") == true, "\(name): \(response)")
        }
    }
}
