import JSON
import Testing

@testable import MMCoreEngine

/// The People API limits, as both native SDKs check them (`UserDataValidator` in each);
/// the expected sentences are the SDKs' own.
@Suite struct UserDataValidatorTests {
    static func text(_ count: Int, _ unit: String = "a") -> String { String(repeating: unit, count: count) }

    static func violations(_ userData: JSONValue) throws -> [String] {
        UserDataValidator.violations(of: try UserData.update(from: userData))
    }

    // MARK: - One field at a time, at the limit and one past it

    static let stringLimits: [(String, Int)] = [
        ("firstName", 255), ("lastName", 255), ("middleName", 50), ("externalUserId", 256),
    ]

    @Test(arguments: UserDataValidatorTests.stringLimits)
    func aStringAtItsLimitPasses(field: String, limit: Int) throws {
        #expect(try Self.violations([field: .string(Self.text(limit))]) == [])
    }

    @Test(arguments: UserDataValidatorTests.stringLimits)
    func aStringPastItsLimitIsNamedWithItsLength(field: String, limit: Int) throws {
        #expect(
            try Self.violations([field: .string(Self.text(limit + 1))])
                == ["\(field) exceeds maximum length of \(limit) characters (actual: \(limit + 1))"])
    }

    @Test(arguments: [(100, false), (101, true)])
    func emailsAndPhonesCount(count: Int, refused: Bool) throws {
        let emails = JSONValue.array((0..<count).map { .string("u\($0)@example.com") })
        let phones = JSONValue.array((0..<count).map { .string("3859100\($0)") })
        #expect(try Self.violations(["emails": emails]) == (refused ? ["emails count exceeds maximum of 100 (actual: \(count))"] : []))
        #expect(try Self.violations(["phones": phones]) == (refused ? ["phones count exceeds maximum of 100 (actual: \(count))"] : []))
    }

    @Test(arguments: [255, 256])
    func eachEmailLength(length: Int) throws {
        let address = Self.text(length - "@example.com".count) + "@example.com"
        let found = try Self.violations(["emails": ["ok@example.com", .string(address)]])
        #expect(found == (length > 255 ? ["email '\(address)' exceeds maximum length of 255 characters (actual: \(length))"] : []))
    }

    @Test(arguments: [
        (JSONValue.string(UserDataValidatorTests.text(4096)), nil),
        (.string(UserDataValidatorTests.text(4097)), 4097),
        (.number(JSONNumber(123_456_789)), nil),
        (.bool(true), nil),
        // A list is measured as its JSON: [{"k":"<4086 x a>"}] is 4096 characters.
        ([["k": .string(UserDataValidatorTests.text(4086))]], nil),
        ([["k": .string(UserDataValidatorTests.text(4087))]], 4097),
    ] as [(JSONValue, Int?)])
    func customAttributeValueLength(value: JSONValue, actual: Int?) throws {
        let found = try Self.violations(["customAttributes": ["note": value, "plan": "gold"]])
        #expect(found == (actual.map { ["customAttribute 'note' value exceeds maximum length of 4096 characters (actual: \($0))"] } ?? []))
    }

    @Test func aDeletedCustomAttributeIsNotMeasured() throws {
        #expect(try Self.violations(["customAttributes": ["note": nil]]) == [])
    }

    // MARK: - Counting and scope

    @Test(arguments: [
        (UserDataValidatorTests.text(128, "😀"), 256),  // two UTF-16 code units each, as Android's String.length() counts
        (UserDataValidatorTests.text(255, "é"), nil),  // one code unit each (precomposed)
        (UserDataValidatorTests.text(256, "é"), 256),
    ] as [(String, Int?)])
    func lengthIsCountedInUTF16CodeUnits(firstName: String, actual: Int?) throws {
        let found = try Self.violations(["firstName": .string(firstName)])
        #expect(found == (actual.map { ["firstName exceeds maximum length of 255 characters (actual: \($0))"] } ?? []))
    }

    @Test func clearedAndLeftOutFieldsBreakNothing() throws {
        #expect(try Self.violations(["firstName": nil, "emails": nil, "customAttributes": nil]) == [])
        #expect(try Self.violations([:]) == [])
        #expect(UserDataValidator.validationDescription(of: try UserData.update(from: ["firstName": "Ada"])) == nil)
    }

    @Test func everyViolationIsListedInAndroidsOrder() throws {
        let found = try Self.violations([
            "customAttributes": ["bio": .string(Self.text(5000))],
            "middleName": .string(Self.text(51)),
            "firstName": .string(Self.text(256)),
            "phones": .array((0..<101).map { .string("1\($0)") }),
            "externalUserId": .string(Self.text(300)),
            "lastName": .string(Self.text(256)),
        ])
        #expect(
            found == [
                "externalUserId exceeds maximum length of 256 characters (actual: 300)",
                "phones count exceeds maximum of 100 (actual: 101)",
                "firstName exceeds maximum length of 255 characters (actual: 256)",
                "lastName exceeds maximum length of 255 characters (actual: 256)",
                "middleName exceeds maximum length of 50 characters (actual: 51)",
                "customAttribute 'bio' value exceeds maximum length of 4096 characters (actual: 5000)",
            ])
    }

    // MARK: - The description

    @Test func theDescriptionIsTheSDKsMessage() throws {
        let update = try UserData.update(from: ["firstName": .string(Self.text(256)), "middleName": .string(Self.text(51))])
        #expect(
            UserDataValidator.validationDescription(of: update)
                == """
                User data validation failed:
                  - firstName exceeds maximum length of 255 characters (actual: 256)
                  - middleName exceeds maximum length of 50 characters (actual: 51)

                Please check the field limits at: https://www.infobip.com/docs/api/customer-engagement/people/update-a-person
                """)
    }

    @Test func noViolationsNoDescription() {
        #expect(UserDataValidator.description(of: []) == nil)
    }

    // MARK: - Personalize

    static func context(_ json: String) throws -> PersonalizeContext {
        try PersonalizeContext(wrapper: JSONValue(parsing: json))
    }

    @Test func aContextListsIdentityThenAttributeViolations() throws {
        let context = try PersonalizeContext(wrapper: [
            "userIdentity": ["externalUserId": .string(Self.text(257)), "emails": .array((0..<101).map { .string("u\($0)@x.test") })],
            "userAttributes": ["lastName": .string(Self.text(256)), "customAttributes": ["list": [["k": .string(Self.text(4100))]]]],
        ])
        #expect(
            UserDataValidator.violations(of: context) == [
                "externalUserId exceeds maximum length of 256 characters (actual: 257)",
                "emails count exceeds maximum of 100 (actual: 101)",
                "lastName exceeds maximum length of 255 characters (actual: 256)",
                "customAttribute 'list' value exceeds maximum length of 4096 characters (actual: 4110)",
            ])
        #expect(UserDataValidator.validationDescription(of: context)?.hasPrefix("User data validation failed:\n  - externalUserId") == true)
    }

    @Test func aContextWithinTheLimitsPasses() throws {
        let context = try Self.context(#"{"userIdentity": {"externalUserId": "ada", "phones": ["385911234567"]}, "userAttributes": {"firstName": "Ada"}}"#)
        #expect(UserDataValidator.violations(of: context) == [])
        #expect(UserDataValidator.validationDescription(of: context) == nil)
    }
}
