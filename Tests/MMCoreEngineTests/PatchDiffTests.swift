import JSON
import Testing

@testable import MMCoreEngine

@Suite struct PatchDiffTests {
    static let base = UserData(
        api: JSONValue(
            parsing: """
                {"externalUserId": "ada", "firstName": "Ada", "lastName": "Lovelace", "gender": "Female",
                 "emails": [{"address": "ada@example.com"}], "tags": ["a"], "type": "LEAD",
                 "customAttributes": {"plan": "gold", "score": 1}}
                """
        ).objectValue!)

    func body(_ input: String, base: UserData? = base) throws -> JSONValue {
        .object(try UserData.update(from: JSONValue(parsing: input)).patchBody(base: base))
    }

    @Test func withoutAServerCopyEveryMentionedFieldIsSent() throws {
        #expect(
            try body(#"{"firstName": "Ada", "lastName": null, "customAttributes": {"a": 1, "b": null}}"#, base: nil)
                == JSONValue(parsing: #"{"firstName": "Ada", "lastName": null, "customAttributes": {"a": 1, "b": null}}"#))
    }

    @Test func onlyChangedFieldsAreSent() throws {
        #expect(try body(#"{"firstName": "Ada", "lastName": "Byron", "gender": "Female"}"#) == ["lastName": "Byron"])
    }

    @Test func leftOutFieldsAreNotTouched() throws {
        #expect(try body(#"{"middleName": "King"}"#) == ["middleName": "King"])
    }

    @Test func nothingChangedIsAnEmptyBody() throws {
        #expect(try body(#"{"firstName": "Ada", "emails": ["ada@example.com"], "customAttributes": {"plan": "gold"}}"#) == [:])
    }

    @Test func nullClearsAFieldTheServerHolds() throws {
        #expect(try body(#"{"lastName": null, "tags": null}"#) == ["lastName": nil, "tags": nil])
    }

    @Test func nullForAFieldTheServerDoesNotHoldIsNotSent() throws {
        #expect(try body(#"{"middleName": null, "birthday": null}"#) == [:])
    }

    @Test func listsAreComparedAsAWholeAndSentInTheServerShape() throws {
        #expect(
            try body(#"{"emails": ["ada@example.com", "ada@work.example"], "phones": ["1"]}"#)
                == JSONValue(
                    parsing: #"{"emails": [{"address": "ada@example.com"}, {"address": "ada@work.example"}], "phones": [{"number": "1"}]}"#))
        #expect(try body(#"{"tags": ["a"]}"#) == [:])
        #expect(try body(#"{"tags": []}"#) == ["tags": []])
    }

    @Test func customAttributesMergeKeyByKey() throws {
        #expect(try body(#"{"customAttributes": {"plan": "gold", "score": 2}}"#) == ["customAttributes": ["score": 2]])
        #expect(try body(#"{"customAttributes": {"new": true}}"#) == ["customAttributes": ["new": true]])
        #expect(try body(#"{"customAttributes": {"plan": null, "missing": null}}"#) == ["customAttributes": ["plan": nil]])
        #expect(try body(#"{"customAttributes": {}}"#) == [:])
        // Numbers compare by value.
        #expect(try body(#"{"customAttributes": {"score": 1.0}}"#) == [:])
    }

    @Test func customAttributesNullDeletesEveryKnownAttribute() throws {
        #expect(try body(#"{"customAttributes": null}"#) == ["customAttributes": ["plan": nil, "score": nil]])
        #expect(try body(#"{"customAttributes": null}"#, base: nil) == ["customAttributes": nil])
        #expect(try body(#"{"customAttributes": null}"#, base: UserData()) == [:])
    }

    @Test func readOnlyFieldsAreNeverSent() throws {
        #expect(try body(#"{"type": "CUSTOMER", "installations": [{"pushRegistrationId": "x"}]}"#) == [:])
    }

    /// The local estimate (the PATCH body applied as the server applies it) is what the
    /// server would hold.
    @Test func appliedUpdateMatchesWhatTheServerWouldHold() throws {
        let update = try UserData.update(
            from: JSONValue(parsing: #"{"lastName": null, "middleName": "King", "customAttributes": {"plan": null, "x": 1}}"#))
        let body = update.patchBody(base: Self.base)
        let result = UserData(api: PendingChange.applying(body, to: Self.base.apiJSON.objectValue ?? [:]))
        #expect(result.lastName == nil)
        #expect(result.middleName == "King")
        #expect(result.firstName == "Ada")
        #expect(result.type == "LEAD")
        #expect(result.customAttributes.map(JSONValue.object) == ["score": 1, "x": 1])
    }
}
