import JSON
import Testing

@testable import MMCoreEngine

@Suite struct UserDataConversionTests {
    static let serverUser = JSONValue(
        parsing: """
            {"externalUserId": "ada", "firstName": "Ada", "lastName": "Lovelace", "middleName": "King",
             "birthday": "1815-12-10", "gender": "Female", "type": "CUSTOMER",
             "emails": [{"address": "ada@example.com", "preferred": true}, {"address": "ada@work.example"}],
             "phones": [{"number": "385911234567", "preferred": false}],
             "tags": ["math", "poetry"],
             "customAttributes": {"plan": "gold", "score": 9.5, "vip": true, "since": "2020-01-02",
                                  "orders": [{"id": 1, "item": "engine"}]},
             "instances": [{"pushRegId": "reg-1", "isPrimary": true, "regEnabled": true, "os": "Linux",
                            "deviceTimezoneOffset": "GMT+01:00", "pushServiceType": "Firebase"}],
             "unknownServerField": {"x": 1}}
            """)

    static let wrapperUser = JSONValue(
        parsing: """
            {"externalUserId": "ada", "firstName": "Ada", "lastName": "Lovelace", "middleName": "King",
             "gender": "Female", "birthday": "1815-12-10",
             "phones": ["385911234567"], "emails": ["ada@example.com", "ada@work.example"],
             "tags": ["math", "poetry"],
             "customAttributes": {"plan": "gold", "score": 9.5, "vip": true, "since": "2020-01-02",
                                  "orders": [{"id": 1, "item": "engine"}]},
             "type": "CUSTOMER",
             "installations": [{"pushRegistrationId": "reg-1", "isPrimaryDevice": true,
                                "isPushRegistrationEnabled": true, "os": "Linux", "deviceTimezoneOffset": "GMT+01:00"}]}
            """)

    @Test func serverShapeToWrapperShape() {
        let user = UserData(api: Self.serverUser.objectValue!)
        #expect(user.wrapperJSON == Self.wrapperUser)
        #expect(user.installations?.first?.pushServiceType == "Firebase")
    }

    @Test func apiShapeRoundTripsThroughTheModel() {
        let user = UserData(api: Self.serverUser.objectValue!)
        let again = UserData(api: user.apiJSON.objectValue!)
        #expect(again == user)
        // Phones and emails keep the server's object shape; `instances`, not `installations`.
        #expect(user.apiJSON["phones"] == [["number": "385911234567"]])
        #expect(user.apiJSON["emails"] == [["address": "ada@example.com"], ["address": "ada@work.example"]])
        #expect(user.apiJSON["instances"]?.arrayValue?.count == 1)
        #expect(user.apiJSON["installations"] == nil)
    }

    @Test func wrapperShapeToPatchBody() throws {
        let update = try UserData.update(from: Self.wrapperUser)
        let body = JSONValue.object(update.patchBody(base: nil))
        #expect(
            body
                == JSONValue(
                    parsing: """
                        {"externalUserId": "ada", "firstName": "Ada", "lastName": "Lovelace", "middleName": "King",
                         "gender": "Female", "birthday": "1815-12-10",
                         "phones": [{"number": "385911234567"}],
                         "emails": [{"address": "ada@example.com"}, {"address": "ada@work.example"}],
                         "tags": ["math", "poetry"],
                         "customAttributes": {"plan": "gold", "score": 9.5, "vip": true, "since": "2020-01-02",
                                              "orders": [{"id": 1, "item": "engine"}]}}
                        """))
        #expect(body["type"] == nil)
        #expect(body["instances"] == nil)
        #expect(body["installations"] == nil)
    }

    @Test func serverFieldsOfTheWrongTypeAreDroppedNotFatal() {
        let user = UserData(
            api: JSONValue(parsing: #"{"firstName": 1, "lastName": "L", "phones": "x", "emails": [{"address": 2}, "e@x.test"], "instances": 3}"#)
                .objectValue!)
        #expect(user.firstName == nil)
        #expect(user.lastName == "L")
        #expect(user.phones == nil)
        #expect(user.emails == ["e@x.test"])
        #expect(user.installations == nil)
    }

    @Test func emptyUserIsAnEmptyObject() {
        #expect(UserData().wrapperJSON == [:])
        #expect(UserData().apiJSON == [:])
    }

    @Test(arguments: [
        ("[]", "userData", "must be an object, got an array"),
        (#"{"firstName": 1}"#, "userData.firstName", "must be a string, got a number"),
        (#"{"firstname": "Ada"}"#, "userData.firstname", "is not a known field"),
        (#"{"gender": "male"}"#, "userData.gender", #"must be "Male" or "Female""#),
        (#"{"gender": true}"#, "userData.gender", "must be a string, got a boolean"),
        (#"{"birthday": "1990-13-01"}"#, "userData.birthday", "must be a date written YYYY-MM-DD"),
        (#"{"birthday": "2023-02-29"}"#, "userData.birthday", "must be a date written YYYY-MM-DD"),
        (#"{"birthday": "10.12.1815"}"#, "userData.birthday", "must be a date written YYYY-MM-DD"),
        (#"{"birthday": "1815-12-10T00:00:00Z"}"#, "userData.birthday", "must be a date written YYYY-MM-DD"),
        (#"{"phones": "385911234567"}"#, "userData.phones", "must be an array of strings, got a string"),
        (#"{"phones": ["1", 2]}"#, "userData.phones[1]", "must be a string, got a number"),
        (#"{"emails": [{"address": "a@b.c"}]}"#, "userData.emails[0]", "must be a string, got an object"),
        (#"{"tags": [null]}"#, "userData.tags[0]", "must be a string, got null"),
        (#"{"customAttributes": []}"#, "userData.customAttributes", "must be an object, got an array"),
        (#"{"customAttributes": {"a": {"b": 1}}}"#, "userData.customAttributes.a",
         "must be a string, number, boolean or list of objects, got an object"),
        (#"{"customAttributes": {"a": [1]}}"#, "userData.customAttributes.a[0]", "must be an object, got a number"),
        (#"{"customAttributes": {"a": [{"b": [1]}]}}"#, "userData.customAttributes.a[0].b",
         "must be a string, number or boolean, got an array"),
        (#"{"customAttributes": {"": 1}}"#, "userData.customAttributes.", "must have a non-empty name"),
        (#"{"installations": 1}"#, "userData.installations", "must be an array, got a number"),
        (#"{"type": 1}"#, "userData.type", "must be a string, got a number"),
    ])
    func invalidInputNamesTheField(json: String, field: String, reason: String) {
        #expect(throws: InvalidParameter(field: field, reason: reason)) {
            try UserData.update(from: JSONValue(parsing: json))
        }
    }

    @Test(arguments: ["2024-02-29", "2000-02-29", "1815-12-10", "0001-01-01", "9999-12-31"])
    func acceptsRealDates(date: String) throws {
        let update = try UserData.update(from: ["birthday": .string(date)])
        #expect(update.values.birthday == date)
    }

    @Test(arguments: ["1900-02-29", "2023-04-31", "2023-00-10", "2023-01-00", "0000-01-01", "2023-1-01", "２０２３-01-01"])
    func refusesImpossibleDates(date: String) {
        #expect(WireCheck.birthday(date) != nil)
    }

    @Test func readOnlyFieldsAreAcceptedButNeverSent() throws {
        // A fetched user can be saved back as is.
        let update = try UserData.update(from: Self.wrapperUser)
        #expect(!update.mentioned.contains("type"))
        #expect(update.values.installations == nil)
    }

    @Test func nullMarksAFieldForClearing() throws {
        let update = try UserData.update(from: JSONValue(parsing: #"{"firstName": null, "lastName": "L"}"#))
        #expect(update.mentioned == ["firstName", "lastName"])
        #expect(update.values.firstName == nil)
        #expect(update.values.lastName == "L")
    }
}

@Suite struct InstallationConversionTests {
    static let server = JSONValue(
        parsing: """
            {"pushRegId": "reg-1", "regEnabled": true, "notificationsEnabled": false, "sdkVersion": "0.1.0",
             "appVersion": "2.0", "os": "Android", "osVersion": "14", "deviceManufacturer": "Acme",
             "deviceModel": "A1", "deviceSecure": true, "language": "hr", "deviceTimezoneOffset": "GMT+01:00",
             "applicationUserId": "u-1", "deviceName": "Ada's phone", "customAttributes": {"theme": "dark"},
             "isPrimary": false, "pushServiceType": "Firebase", "pushServiceToken": "tok"}
            """)

    static let wrapper = JSONValue(
        parsing: """
            {"pushRegistrationId": "reg-1", "isPrimaryDevice": false, "isPushRegistrationEnabled": true,
             "notificationsEnabled": false, "sdkVersion": "0.1.0", "appVersion": "2.0", "os": "Android",
             "osVersion": "14", "deviceManufacturer": "Acme", "deviceModel": "A1", "deviceSecure": true,
             "language": "hr", "deviceTimezoneOffset": "GMT+01:00", "applicationUserId": "u-1",
             "deviceName": "Ada's phone", "customAttributes": {"theme": "dark"}}
            """)

    @Test func serverShapeToWrapperShape() {
        let installation = Installation(api: Self.server.objectValue!)
        #expect(installation.wrapperJSON == Self.wrapper)
        #expect(installation.pushServiceToken == "tok")
    }

    @Test func apiShapeRoundTrips() {
        let installation = Installation(api: Self.server.objectValue!)
        #expect(installation.apiJSON == Self.server)
    }

    @Test func wrapperShapeToPatchBodyUsesServerNames() throws {
        let update = try Installation.update(from: Self.wrapper)
        let body = JSONValue.object(update.patchBody(base: nil))
        #expect(body["isPrimary"] == false)
        #expect(body["regEnabled"] == true)
        #expect(body["deviceTimezoneOffset"] == "GMT+01:00")
        #expect(body["pushRegId"] == nil, "the id is read-only")
        #expect(body["pushRegistrationId"] == nil)
        #expect(body["isPrimaryDevice"] == nil)
        #expect(body["customAttributes"] == ["theme": "dark"])
    }

    @Test func patchAgainstTheServerCopySendsOnlyChanges() throws {
        let base = Installation(api: Self.server.objectValue!)
        let update = try Installation.update(from: ["isPrimaryDevice": true, "language": "hr", "customAttributes": ["theme": "dark"]])
        #expect(JSONValue.object(update.patchBody(base: base)) == ["isPrimary": true])
    }

    @Test func isPrimaryDeviceIsAlwaysABoolean() {
        // The native bridges answer a Bool (iOS MMInstallation.isPrimaryDevice, default false).
        #expect(Installation().wrapperJSON == ["isPrimaryDevice": false])
        let withoutFlag = Installation(api: ["pushRegId": "reg-2", "os": "Linux"])
        #expect(withoutFlag.wrapperJSON == ["pushRegistrationId": "reg-2", "isPrimaryDevice": false, "os": "Linux"])
        #expect(withoutFlag.apiJSON == ["pushRegId": "reg-2", "os": "Linux"], "the server copy is not invented")
        let user = UserData(api: ["instances": [["pushRegId": "reg-2"]]])
        #expect(user.wrapperJSON["installations"] == [["pushRegistrationId": "reg-2", "isPrimaryDevice": false]])
    }

    /// What Flutter's `Installation.toJson` writes (every key, nulls included) after a
    /// `fetchInstallation`: accepted as is, the read-only keys ignored.
    static let flutterInstallation = JSONValue(
        parsing: """
            {"pushRegistrationId": "reg-1", "pushServiceToken": "tok", "pushServiceType": "Firebase",
             "isPrimaryDevice": true, "isPushRegistrationEnabled": true, "notificationsEnabled": null,
             "sdkVersion": "0.1.0", "appVersion": null, "os": "Android", "osVersion": "14",
             "deviceManufacturer": "Acme", "deviceModel": "A1", "deviceSecure": true, "language": "hr",
             "deviceTimezoneOffset": "GMT+01:00", "applicationUserId": "u-1", "deviceName": "Ada's phone",
             "customAttributes": {"theme": "dark"}}
            """)

    @Test func flutterToJsonIsAcceptedAndPushServiceFieldsIgnored() throws {
        let update = try Installation.update(from: Self.flutterInstallation)
        #expect(!update.mentioned.contains("pushServiceToken"))
        #expect(!update.mentioned.contains("pushServiceType"))
        #expect(update.values.pushServiceToken == nil)
        #expect(update.values.pushServiceType == nil)
        let base = Installation(api: Self.server.objectValue!)
        // Only what differs from the server copy goes out; never the push service fields.
        #expect(
            JSONValue.object(update.patchBody(base: base))
                == ["isPrimary": true, "notificationsEnabled": nil, "appVersion": nil])
        let nulls = try Installation.update(from: ["pushServiceToken": nil, "pushServiceType": nil])
        #expect(nulls.mentioned.isEmpty)
    }

    @Test func theReactNativeTypingsNameIsReadAsDeviceTimezoneOffset() throws {
        // RN's index.d.ts declares `deviceTimezoneId`; the native bridges read and write
        // `deviceTimezoneOffset` (iOS MMInstallation.dictionaryRepresentation).
        let update = try Installation.update(from: ["deviceTimezoneId": "GMT+02:00"])
        #expect(JSONValue.object(update.patchBody(base: nil)) == ["deviceTimezoneOffset": "GMT+02:00"])
        let both = try Installation.update(from: ["deviceTimezoneId": "GMT", "deviceTimezoneOffset": "GMT"])
        #expect(JSONValue.object(both.patchBody(base: nil)) == ["deviceTimezoneOffset": "GMT"])
        #expect(try Installation.update(from: ["deviceTimezoneId": nil]).mentioned == ["deviceTimezoneOffset"])
        let installation = Installation(api: ["deviceTimezoneOffset": "GMT+02:00"])
        #expect(installation.wrapperJSON["deviceTimezoneId"] == nil)
        #expect(installation.wrapperJSON["deviceTimezoneOffset"] == "GMT+02:00")
    }

    @Test(arguments: [
        (#"{"isPrimaryDevice": "yes"}"#, "installation.isPrimaryDevice", "must be a boolean, got a string"),
        (#"{"pushServiceToken": 1}"#, "installation.pushServiceToken", "must be a string, got a number"),
        (#"{"pushServiceType": true}"#, "installation.pushServiceType", "must be a string, got a boolean"),
        (#"{"isPrimary": true}"#, "installation.isPrimary", "is not a known field"),
        (#"{"deviceTimezoneOffset": 60}"#, "installation.deviceTimezoneOffset", "must be a string, got a number"),
        (#"{"deviceTimezoneId": 60}"#, "installation.deviceTimezoneId", "must be a string, got a number"),
        (#"{"deviceTimezoneId": "GMT", "deviceTimezoneOffset": "GMT+01:00"}"#, "installation.deviceTimezoneId",
         "names the same field as deviceTimezoneOffset; give one of them"),
        (#"{"customAttributes": {"x": {}}}"#, "installation.customAttributes.x",
         "must be a string, number, boolean or list of objects, got an object"),
        ("true", "installation", "must be an object, got a boolean"),
    ])
    func invalidInputNamesTheField(json: String, field: String, reason: String) {
        #expect(throws: InvalidParameter(field: field, reason: reason)) {
            try Installation.update(from: JSONValue(parsing: json))
        }
    }
}

@Suite struct PersonalizeContextTests {
    @Test func wrapperContextToRequestBody() throws {
        let context = try PersonalizeContext(
            wrapper: JSONValue(
                parsing: """
                    {"userIdentity": {"externalUserId": "ada", "phones": ["385911234567"], "emails": ["ada@example.com"]},
                     "userAttributes": {"firstName": "Ada", "middleName": null, "tags": ["x"], "customAttributes": {"plan": "gold"}},
                     "forceDepersonalize": true}
                    """))
        #expect(context.forceDepersonalize)
        #expect(!context.keepAsLead)
        #expect(
            context.apiBody
                == JSONValue(
                    parsing: """
                        {"userIdentity": {"externalUserId": "ada", "phones": [{"number": "385911234567"}],
                                          "emails": [{"address": "ada@example.com"}]},
                         "userAttributes": {"firstName": "Ada", "middleName": null, "tags": ["x"],
                                            "customAttributes": {"plan": "gold"}}}
                        """))
    }

    @Test(arguments: [
        (#"{"userIdentity": {"externalUserId": "ada"}, "setDeviceAsPrimary": true}"#, true),
        (#"{"userIdentity": {"externalUserId": "ada"}, "setDeviceAsPrimary": false}"#, false),
        (#"{"userIdentity": {"externalUserId": "ada"}, "setDeviceAsPrimary": null}"#, false),
        (#"{"userIdentity": {"externalUserId": "ada"}}"#, false),
    ])
    func setDeviceAsPrimaryIsAFlagLikeTheOthers(json: String, expected: Bool) throws {
        #expect(try PersonalizeContext(wrapper: JSONValue(parsing: json)).setDeviceAsPrimary == expected)
    }

    /// Flutter's `PersonalizeContext.toJson` writes every key, nulls included.
    @Test func flutterToJsonWithNullsIsAccepted() throws {
        let context = try PersonalizeContext(
            wrapper: JSONValue(
                parsing: """
                    {"userIdentity": {"externalUserId": "ada"}, "userAttributes": null,
                     "forceDepersonalize": null, "keepAsLead": null, "setDeviceAsPrimary": null}
                    """))
        #expect(!context.forceDepersonalize && !context.keepAsLead && !context.setDeviceAsPrimary)
        #expect(context.userAttributes == nil)
        #expect(context.queryString == "forceDepersonalize=false&keepAsLead=false&setDeviceAsPrimary=false")
    }

    /// All three flags always go in the query, in the order of Android's
    /// `MobileApiUserData.personalize` (iOS `PostPersonalize` sends the same three).
    @Test(arguments: [
        (#"{"forceDepersonalize": true}"#, "forceDepersonalize=true&keepAsLead=false&setDeviceAsPrimary=false"),
        (#"{"keepAsLead": true}"#, "forceDepersonalize=false&keepAsLead=true&setDeviceAsPrimary=false"),
        (#"{"setDeviceAsPrimary": true}"#, "forceDepersonalize=false&keepAsLead=false&setDeviceAsPrimary=true"),
        (#"{"forceDepersonalize": true, "keepAsLead": true, "setDeviceAsPrimary": true}"#,
         "forceDepersonalize=true&keepAsLead=true&setDeviceAsPrimary=true"),
    ])
    func queryStringCarriesAllThreeFlags(flags: String, query: String) throws {
        var object = try #require(JSONValue(parsing: flags).objectValue)
        object["userIdentity"] = ["externalUserId": "ada"]
        let context = try PersonalizeContext(wrapper: .object(object))
        #expect(context.queryString == query)
        #expect(context.apiBody == ["userIdentity": ["externalUserId": "ada"]], "the flags are not in the body")
    }

    /// "Set" as the SDKs send it: iOS `MMUserIdentity.init?` needs a non-nil
    /// externalUserId or a non-empty phones/emails list; Android's plugin
    /// (`UserJson.userIdentityFromJSON`) also drops empty strings from the lists.
    @Test(arguments: [
        (#"{}"#, false),
        (#"{"externalUserId": null, "phones": null, "emails": null}"#, false),
        (#"{"phones": [], "emails": []}"#, false),
        (#"{"emails": [""], "phones": ["", ""]}"#, false),
        (#"{"externalUserId": "ada"}"#, true),
        (#"{"externalUserId": ""}"#, true),
        (#"{"phones": ["385911234567"]}"#, true),
        (#"{"emails": ["", "ada@example.com"]}"#, true),
    ])
    func identityWithoutAnyFieldSetIsDetected(identity: String, hasIdentity: Bool) throws {
        let context = try PersonalizeContext(wrapper: ["userIdentity": JSONValue(parsing: identity)])
        #expect(context.hasIdentity == hasIdentity)
    }

    @Test func flagsDefaultToFalseAndAttributesAreOptional() throws {
        let context = try PersonalizeContext(wrapper: ["userIdentity": ["externalUserId": "ada"], "keepAsLead": true])
        #expect(!context.forceDepersonalize)
        #expect(context.keepAsLead)
        #expect(context.apiBody == ["userIdentity": ["externalUserId": "ada"]])
    }

    @Test(arguments: [
        ("{}", "context.userIdentity", "is required (an object)"),
        (#"{"userIdentity": null}"#, "context.userIdentity", "is required (an object)"),
        (#"{"userIdentity": "ada"}"#, "context.userIdentity", "must be an object, got a string"),
        (#"{"userIdentity": {"externalUserId": 7}}"#, "context.userIdentity.externalUserId", "must be a string, got a number"),
        (#"{"userIdentity": {"phones": ["1", 2]}}"#, "context.userIdentity.phones[1]", "must be a string, got a number"),
        (#"{"userIdentity": {"firstName": "Ada"}}"#, "context.userIdentity.firstName", "is not a known field"),
        (#"{"userIdentity": {}, "userAttributes": {"externalUserId": "x"}}"#, "context.userAttributes.externalUserId",
         "is not a known field"),
        (#"{"userIdentity": {}, "userAttributes": {"birthday": "x"}}"#, "context.userAttributes.birthday",
         "must be a date written YYYY-MM-DD"),
        (#"{"userIdentity": {}, "userAttributes": []}"#, "context.userAttributes", "must be an object, got an array"),
        (#"{"userIdentity": {}, "forceDepersonalize": "true"}"#, "context.forceDepersonalize", "must be a boolean, got a string"),
        (#"{"userIdentity": {}, "keepAsLead": 1}"#, "context.keepAsLead", "must be a boolean, got a number"),
        (#"{"userIdentity": {}, "depersonalize": true}"#, "context.depersonalize", "is not a known field"),
        (#"{"userIdentity": {}, "setDeviceAsPrimary": "yes"}"#, "context.setDeviceAsPrimary", "must be a boolean, got a string"),
        ("[]", "context", "must be an object, got an array"),
    ])
    func invalidInputNamesTheField(json: String, field: String, reason: String) {
        #expect(throws: InvalidParameter(field: field, reason: reason)) {
            try PersonalizeContext(wrapper: JSONValue(parsing: json))
        }
    }
}
