import JSON
import Testing

@testable import JSONRPC

@Suite struct JSONRPCErrorTests {
    @Test(arguments: [
        (JSONRPCError.Code.parseError, -32700), (.invalidRequest, -32600), (.methodNotFound, -32601),
        (.invalidParams, -32602), (.internalError, -32603),
    ])
    func reservedCodes(code: JSONRPCError.Code, value: Int) {
        #expect(code.rawValue == value)
        #expect(JSONRPCError.Code(rawValue: value) == code)
    }

    @Test func invalidParamsNameTheField() {
        let error = JSONRPCError.invalidParams(field: "userData.birthday", "must be a string in YYYY-MM-DD format")
        #expect(error.code == .invalidParams)
        #expect(error.message == "Invalid params: userData.birthday must be a string in YYYY-MM-DD format")
        #expect(
            error.jsonValue == [
                "code": -32602,
                "message": "Invalid params: userData.birthday must be a string in YYYY-MM-DD format",
                "data": [
                    "code": "INVALID_PARAMS", "description": "userData.birthday must be a string in YYYY-MM-DD format",
                    "domain": "jsonrpc", "field": "userData.birthday",
                ],
            ])
    }

    @Test func lineTooLongSaysTheLimit() {
        let error = JSONRPCError.lineTooLong(maxLineBytes: 1_048_576)
        #expect(error.code == .invalidRequest)
        #expect(error.message == "Invalid Request: line exceeds 1048576 bytes")
        #expect(error.data?["code"] == "LINE_TOO_LONG")
        #expect(error.data?["maxLineBytes"] == 1_048_576)
    }

    @Test func methodNotFoundNamesTheMethod() {
        let error = JSONRPCError.methodNotFound("foobar")
        #expect(error.message == "Method not found: foobar")
        #expect(error.data?["description"] == "There is no method \"foobar\".")
        let hinted = JSONRPCError.methodNotFound("foobar", hint: "rpc.discover lists the methods")
        #expect(hinted.data?["description"] == "There is no method \"foobar\" (rpc.discover lists the methods).")
        #expect(error.data?["method"] == "foobar")
    }

    @Test func dataIsLeftOutWhenAbsent() {
        #expect(JSONRPCError(code: 1, message: "x").jsonValue.serialized == #"{"code":1,"message":"x"}"#)
    }

    @Test func applicationErrorsKeepTheirCodeAndData() {
        struct Expired: JSONRPCErrorConvertible {
            var jsonRPCError: JSONRPCError {
                JSONRPCError(code: 1102, message: "The provided JWT is expired.", data: ["code": "JWT_TOKEN_EXPIRED"])
            }
        }
        let converted: any JSONRPCErrorConvertible = Expired()
        #expect(converted.jsonRPCError.code.rawValue == 1102)
        #expect(converted.jsonRPCError.data?["code"] == "JWT_TOKEN_EXPIRED")
    }

    @Test func theInternalErrorSaysNothingOfTheCause() {
        #expect(JSONRPCError.internalError.message == "Internal error: the request failed unexpectedly")
        #expect(JSONRPCError.internalError.data?["code"] == "INTERNAL_ERROR")
    }

    @Test func aHugeMethodNameIsNotEchoedInFull() {
        let name = String(repeating: "m", count: 1 << 20)
        let error = JSONRPCError.methodNotFound(name)
        let line = JSONRPCResponse(id: 1, error: error).serializedBytes
        #expect(line.count < 2_000, "the error line is \(line.count) bytes")
        #expect(error.message.contains("(1048576 bytes)"))
        #expect(error.data?["method"]?.stringValue?.hasPrefix(String(repeating: "m", count: 128)) == true)
    }
}
