import JSON
import Testing

@testable import JSONRPC

@Suite struct MessageDecodingTests {
    private func decode(_ text: String) throws -> JSONRPCMessage {
        JSONRPCMessage(decoding: try JSONParser.parse(text))
    }

    @Test func aRequestWithPositionalParams() throws {
        guard case .request(let request) = try decode(#"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":["abc",true],"id":1}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(request.id == 1)
        #expect(request.method == "setInstallationAsPrimary")
        #expect(request.params == ["abc", true])
    }

    @Test func aRequestWithNamedParamsAndAStringID() throws {
        guard case .request(let request) = try decode(#"{"id":"a-1","params":{"jwt":null},"method":"setUserDataJwt","jsonrpc":"2.0"}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(request.id == "a-1")
        #expect(request.params == ["jwt": nil])
    }

    @Test func aNumericIDKeepsItsText() throws {
        guard case .request(let request) = try decode(#"{"jsonrpc":"2.0","method":"getUser","id":1.50}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(request.id?.description == "1.50")
        #expect(JSONRPCResponse(id: request.id, result: nil).serializedBytes == Array(#"{"jsonrpc":"2.0","id":1.50,"result":null}"#.utf8))
    }

    @Test func aNullIDIsARequestAnsweredWithNull() throws {
        guard case .request(let request) = try decode(#"{"jsonrpc":"2.0","method":"getUser","id":null}"#) else {
            Issue.record("not a request")
            return
        }
        #expect(request.id == nil)
    }

    @Test func noIDMakesANotification() throws {
        guard case .notification(let notification) = try decode(#"{"jsonrpc":"2.0","method":"getUser"}"#) else {
            Issue.record("not a notification")
            return
        }
        #expect(notification.method == "getUser")
        #expect(notification.params == nil)
    }

    @Test func unknownMembersAreIgnored() throws {
        guard case .request = try decode(#"{"jsonrpc":"2.0","method":"getUser","id":1,"extra":true}"#) else {
            Issue.record("not a request")
            return
        }
    }

    /// Each invalid shape: the id it is answered with and what the description says.
    @Test(arguments: [
        (#"1"#, nil, "expected a request object, got a number"),
        (#""getUser""#, nil, "expected a request object, got a string"),
        (#"null"#, nil, "expected a request object, got null"),
        (#"{"jsonrpc":"2.0","method":"getUser","id":[]}"#, nil, "id must be a string, a number or null, got an array"),
        (#"{"jsonrpc":"2.0","method":"getUser","id":{}}"#, nil, "id must be a string, a number or null, got an object"),
        (#"{"jsonrpc":"2.0","method":"getUser","id":true}"#, nil, "id must be a string, a number or null, got a boolean"),
        (#"{"jsonrpc":"1.0","method":"getUser","id":3}"#, 3, #"jsonrpc must be exactly "2.0""#),
        (#"{"jsonrpc":2.0,"method":"getUser","id":3}"#, 3, #"jsonrpc must be exactly "2.0""#),
        (#"{"method":"getUser","id":"x"}"#, "x", #"jsonrpc must be exactly "2.0""#),
        (#"{"jsonrpc":"2.0","id":4}"#, 4, "method is missing"),
        (#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#, nil, "method must be a string, got a number"),
        (#"{"jsonrpc":"2.0","method":null,"id":5}"#, 5, "method must be a string, got null"),
        (#"{"jsonrpc":"2.0","method":"getUser","params":3,"id":6}"#, 6, "params must be an array or an object, got a number"),
        (#"{"jsonrpc":"2.0","method":"getUser","params":"x","id":6}"#, 6, "params must be an array or an object, got a string"),
        (#"{"jsonrpc":"2.0","method":"getUser","params":null,"id":6}"#, 6, "params must be an array or an object, got null"),
        (#"{"foo":"boo"}"#, nil, #"jsonrpc must be exactly "2.0""#),
    ] as [(String, RequestID?, String)])
    func invalidRequests(text: String, id: RequestID?, description: String) throws {
        guard case .invalid(let answeredID, let error) = try decode(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(answeredID == id)
        #expect(error.code == .invalidRequest)
        #expect(error.message == "Invalid Request: \(description)")
        #expect(error.data?["code"] == "INVALID_REQUEST")
        #expect(error.data?["description"] == .string(description))
        #expect(error.data?["domain"] == "jsonrpc")
    }

    @Test func aResponseWithAResult() throws {
        guard case .response(let response) = try decode(#"{"jsonrpc":"2.0","result":"token","id":"mmcore-1"}"#) else {
            Issue.record("not a response")
            return
        }
        #expect(response.id == "mmcore-1")
        #expect(try response.outcome.get() == "token")
    }

    @Test func aResponseWithAnError() throws {
        guard case .response(let response) = try decode(#"{"jsonrpc":"2.0","error":{"code":7,"message":"no","data":[1]},"id":"mmcore-2"}"#) else {
            Issue.record("not a response")
            return
        }
        #expect(response.outcome.failure == JSONRPCError(code: 7, message: "no", data: [1]))
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":"mmcore-3"}"#,
        #"{"jsonrpc":"2.0","error":"bad","id":"mmcore-3"}"#,
        #"{"jsonrpc":"2.0","error":{"code":"1","message":"x"},"id":"mmcore-3"}"#,
        #"{"jsonrpc":"2.0","error":{"code":1.5,"message":"x"},"id":"mmcore-3"}"#,
        #"{"result":1,"id":"mmcore-3"}"#,
    ])
    func malformedResponsesFailTheirRequest(text: String) throws {
        guard case .response(let response) = try decode(text) else {
            Issue.record("not a response")
            return
        }
        #expect(response.id == "mmcore-3")
        #expect(response.outcome.failure?.message.hasPrefix("Invalid Request: malformed response from the client") == true)
    }

    @Test func messagesAreWrittenAsOneCompactLine() {
        var bytes: [UInt8] = []
        JSONRPCNotification(method: "event", params: ["eventName": "userUpdated", "payload": ["a": "x\ny"]]).write(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","method":"event","params":{"eventName":"userUpdated","payload":{"a":"x\ny"}}}"#)
        bytes = []
        JSONRPCRequest(id: "mmcore-1", method: "requestUserDataJwt", params: ["reason": "missing"]).write(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":"mmcore-1","method":"requestUserDataJwt","params":{"reason":"missing"}}"#)
        let response = JSONRPCResponse(id: nil, error: JSONRPCError(code: .parseError, message: "Parse error"))
        #expect(String(decoding: response.serializedBytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
