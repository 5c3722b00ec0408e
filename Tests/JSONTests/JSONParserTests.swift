import Testing
@testable import JSON

@Suite struct JSONParserTests {
    @Test(arguments: [
        ("null", .null), ("true", true), ("false", false), ("0", 0), ("-12", -12),
        ("1.5", 1.5), ("\"a\"", "a"), ("[]", []), ("{}", [:]), (" [1, \"x\", null] ", [1, "x", nil]),
        ("{\"a\":{\"b\":[true]}}", ["a": ["b": [true]]]),
    ] as [(String, JSONValue)])
    func parsesValues(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test func numbersKeepTheirText() throws {
        for text in ["1", "-0", "1.50", "1e3", "1E-7", "12345678901234567890"] {
            #expect(try JSONParser.parse(text).numberValue?.text == text)
            #expect(try JSONParser.parse(text).serialized == text)
        }
        #expect(try JSONParser.parse("3.0").numberValue?.intValue == 3)
        #expect(try JSONParser.parse("3.5").numberValue?.intValue == nil)
    }

    @Test func escapesAndUnicode() throws {
        let parsed = try JSONParser.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00 é""#)
        #expect(parsed == .string("a\"b\\c/d\n\té😀 é"))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "+1", ".5", "1e", "tru", "nul", "\"abc",
        "{\"a\" 1}", "{1:2}", "[1 2]", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{01}b\"",
        "1 2", "NaN", "[1]]", "'a'",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0xFE]] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        }
    }

    @Test func boundsNesting() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do {
            _ = try JSONParser.parse(deep)
            Issue.record("10,000 levels parsed")
        } catch {
            #expect(error.kind == .tooDeep)
        }
        let deepObjects = String(repeating: "{\"a\":", count: 200) + "1" + String(repeating: "}", count: 200)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deepObjects) }
    }

    @Test func errorNamesTheProblemAndOffset() {
        do {
            _ = try JSONParser.parse("[1, x]")
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 4)
            #expect(error.reason.contains("'x'"))
        }
    }
}

@Suite struct JSONValueTests {
    @Test func serializesCompactlyInOrder() {
        let value: JSONValue = ["jsonrpc": "2.0", "id": 1, "result": ["b": nil, "a": [true, 1.5]]]
        #expect(value.serialized == #"{"jsonrpc":"2.0","id":1,"result":{"b":null,"a":[true,1.5]}}"#)
    }

    @Test func escapesControlCharactersSoOutputIsOneLine() {
        let value: JSONValue = .string("line\nbreak\r\u{01}\"\\é")
        #expect(value.serialized == #""line\nbreak\r\u0001\"\\é""#)
        #expect(!value.serialized.contains("\n"))
    }

    @Test func roundTrips() throws {
        let text = #"{"a":[1,-2.5e3,"x\u0000y",{"b":null}],"c":false,"d":"😀"}"#
        let value = try JSONParser.parse(text)
        #expect(try JSONParser.parse(value.serialized) == value)
    }

    @Test func objectLastKeyWinsAndSubscriptSets() throws {
        var object = try JSONParser.parse(#"{"a":1,"a":2}"#).objectValue!
        #expect(object["a"] == 2)
        object["b"] = "x"
        object["a"] = nil
        #expect(object.keys == ["b"])
        #expect(object == ["b": "x"])
    }

    @Test func equalityIgnoresKeyOrderAndNumberSpelling() {
        let ab: JSONValue = ["a": 1, "b": 2]
        let a: JSONValue = ["a": 1]
        #expect(ab == ["b": 2, "a": 1.0])
        #expect(a != ["a": "1"])
    }
}
