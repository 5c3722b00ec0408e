import JSON
import Testing

@testable import JSONRPC

@Suite struct MethodRegistryTests {
    private let registry: MethodRegistry = {
        var registry = MethodRegistry()
        registry.register("setInstallationAsPrimary", parameters: ["pushRegistrationId", "primary"]) { _ in nil }
        registry.register("getUser") { _ in nil }
        return registry
    }()

    private func parameters(_ method: String, _ params: JSONValue?) throws -> Parameters {
        try registry.resolve(method: method, params: params).get().1
    }

    @Test func byPosition() throws {
        let parameters = try parameters("setInstallationAsPrimary", ["abc", true])
        #expect(try parameters.string("pushRegistrationId") == "abc")
        #expect(try parameters.bool("primary") == true)
        #expect(parameters.names == ["pushRegistrationId", "primary"])
    }

    @Test func byName() throws {
        let parameters = try parameters("setInstallationAsPrimary", ["primary": false, "pushRegistrationId": "abc"])
        #expect(try parameters.string("pushRegistrationId") == "abc")
        #expect(try parameters.bool("primary") == false)
    }

    @Test func byNameIgnoresMembersThatAreNotParameters() throws {
        let parameters = try parameters("setInstallationAsPrimary", ["pushRegistrationId": "abc", "newerOption": 1])
        #expect(parameters.names == ["pushRegistrationId"])
        #expect(parameters["newerOption"] == nil)
    }

    @Test func missingTrailingPositionsAreAbsent() throws {
        let parameters = try parameters("setInstallationAsPrimary", ["abc"])
        #expect(parameters["primary"] == nil)
        #expect(throws: JSONRPCError.invalidParams(field: "primary", "is required")) { try parameters.bool("primary") }
    }

    @Test func tooManyPositionsAreInvalidParams() {
        let error = registry.resolve(method: "setInstallationAsPrimary", params: ["abc", true, 3]).failure
        #expect(error?.code == .invalidParams)
        #expect(error?.message == "Invalid params: params has 3 elements; setInstallationAsPrimary takes at most 2 (pushRegistrationId, primary)")
        #expect(registry.resolve(method: "getUser", params: [1]).failure?.message == "Invalid params: params has 1 elements; getUser takes no parameters")
    }

    @Test func noParamsAndEmptyParamsAreTheSame() throws {
        #expect(try parameters("getUser", nil).names.isEmpty)
        #expect(try parameters("getUser", []).names.isEmpty)
        #expect(try parameters("getUser", [:]).names.isEmpty)
    }

    @Test func anUnknownMethodIsNotFound() {
        #expect(registry.resolve(method: "foobar", params: nil).failure == .methodNotFound("foobar"))
    }

    @Test func anExplicitNullIsPresent() throws {
        let parameters = try parameters("setInstallationAsPrimary", [nil, nil])
        #expect(parameters["pushRegistrationId"] == .null)
        #expect(try parameters.optionalString("pushRegistrationId") == nil)
        #expect(try parameters.require("primary") == .null)
    }

    @Test(arguments: [
        ("string", JSONValue.number(JSONNumber(3)), "value must be a string, got a number"),
        ("bool", "yes", "value must be a boolean, got a string"),
        ("int", 1.5, "value must be an integer, got a number"),
        ("object", [1], "value must be an object, got an array"),
        ("array", ["a": 1], "value must be an array, got an object"),
        ("optionalString", true, "value must be a string or null, got a boolean"),
        ("optionalBool", 0, "value must be a boolean or null, got a number"),
        ("optionalObject", "x", "value must be an object or null, got a string"),
    ] as [(String, JSONValue, String)])
    func typedGettersNameTheField(getter: String, value: JSONValue, problem: String) {
        let parameters = Parameters(method: "m", values: ["value": value])
        let error: JSONRPCError?
        do {
            switch getter {
            case "string": _ = try parameters.string("value")
            case "bool": _ = try parameters.bool("value")
            case "int": _ = try parameters.int("value")
            case "object": _ = try parameters.object("value")
            case "array": _ = try parameters.array("value")
            case "optionalString": _ = try parameters.optionalString("value")
            case "optionalBool": _ = try parameters.optionalBool("value")
            default: _ = try parameters.optionalObject("value")
            }
            error = nil
        } catch let thrown {
            error = thrown
        }
        #expect(error?.code == .invalidParams)
        #expect(error?.message == "Invalid params: \(problem)")
        #expect(error?.data?["field"] == "value")
    }

    @Test func typedGettersReturnValues() throws {
        let parameters = Parameters(method: "m", values: ["s": "x", "i": 3, "o": ["k": 1], "a": [1, 2], "b": true])
        #expect(try parameters.string("s") == "x")
        #expect(try parameters.int("i") == 3)
        #expect(try parameters.object("o") == ["k": 1])
        #expect(try parameters.array("a") == [1, 2])
        #expect(try parameters.optionalBool("b") == true)
        #expect(try parameters.optionalObject("missing") == nil)
    }

    @Test func methodNamesAreSorted() {
        #expect(registry.methodNames == ["getUser", "setInstallationAsPrimary"])
        #expect(registry.parameterNames(of: "setInstallationAsPrimary") == ["pushRegistrationId", "primary"])
        #expect(registry.parameterNames(of: "foobar") == nil)
    }
}
