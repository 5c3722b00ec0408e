import JSON

/// A person's profile as the Mobile API holds it.
///
/// The wrappers' shape has phones and emails as plain strings and the person's
/// installations under `installations`; the server's has `phones: [{number, preferred}]`,
/// `emails: [{address, preferred}]` and `instances`. `type` (`LEAD`/`CUSTOMER`) and
/// `installations` are the server's to set: shown in results, never sent.
struct UserData: WireRecord {
    var externalUserId: String?
    var firstName: String?
    var lastName: String?
    var middleName: String?
    /// `Male` or `Female`.
    var gender: String?
    /// `YYYY-MM-DD`.
    var birthday: String?
    var phones: [String]?
    var emails: [String]?
    var tags: [String]?
    var customAttributes: JSONObject?
    /// `LEAD` or `CUSTOMER`.
    var type: String?
    var installations: [Installation]?

    init() {}

    static var fields: [RecordField<UserData>] {
        [
            RecordField("externalUserId", .string(\.externalUserId)),
            RecordField("firstName", .string(\.firstName)),
            RecordField("lastName", .string(\.lastName)),
            RecordField("middleName", .string(\.middleName)),
            RecordField("gender", .string(\.gender, check: WireCheck.gender)),
            RecordField("birthday", .string(\.birthday, check: WireCheck.birthday)),
            RecordField("phones", .list(\.phones, objectKey: "number")),
            RecordField("emails", .list(\.emails, objectKey: "address")),
            RecordField("tags", .list(\.tags)),
            RecordField("customAttributes", .attributes(\.customAttributes)),
            RecordField("type", .string(\.type), .readOnly),
        ]
    }

    /// The fields personalize accepts as `userAttributes`: everything but the identity
    /// (which goes in `userIdentity`) and what the server owns.
    static let attributeKeys: Set<String> = ["firstName", "lastName", "middleName", "gender", "birthday", "tags", "customAttributes"]
}

// MARK: - Conversions

extension UserData {
    /// From the Mobile API's shape (`instances`, phone and email objects).
    init(api object: JSONObject) {
        self = Self.readFields(api: object)
        installations = object["instances"]?.arrayValue?.compactMap { $0.objectValue.map(Installation.init(api:)) }
    }

    /// The Mobile API's shape of the fields that are set, `instances` included: what
    /// the state file keeps as the last known server copy.
    var apiJSON: JSONValue {
        var object = apiFields()
        if let installations { object["instances"] = .array(installations.map(\.apiJSON)) }
        return .object(object)
    }

    /// The wrappers' shape of the fields that are set, `installations` included.
    var wrapperJSON: JSONValue {
        var object = wrapperFields()
        if let installations { object["installations"] = .array(installations.map(\.wrapperJSON)) }
        return .object(object)
    }

    /// Reads a wrapper UserData object as a change to save. `installations` and `type`
    /// are accepted (so a fetched user can be saved back) and ignored.
    static func update(from value: JSONValue, path: String = "userData") throws(InvalidParameter) -> RecordUpdate<UserData> {
        let input = try WireInput(value, path: path)
        if let installations = input.object["installations"], !installations.isNull, installations.arrayValue == nil {
            throw InvalidParameter(field: input.fieldPath("installations"), reason: "must be an array, got \(installations.typeName)")
        }
        return try parseUpdate(input, otherKeys: ["installations"])
    }
}
