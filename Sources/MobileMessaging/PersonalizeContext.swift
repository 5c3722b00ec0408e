import JSON

/// The argument of `personalize`: who this installation now belongs to, what to set on
/// that person, and the two flags the Mobile API takes as query parameters.
///
/// Wrappers' shape: `{userIdentity: {externalUserId, phones, emails}, userAttributes,
/// forceDepersonalize, keepAsLead}`. Checking that the identity holds at least one
/// field is left to the server, which answers `USER_IDENTITY_INVALID` as the SDKs expect.
struct PersonalizeContext: Sendable, Equatable {
    var externalUserId: String?
    var phones: [String]?
    var emails: [String]?
    /// The attributes to set, as given (`null` clears); `nil` when none were given.
    var userAttributes: RecordUpdate<UserData>?
    /// Personalize even when the installation still belongs to someone else.
    var forceDepersonalize: Bool
    /// Keep the person a lead rather than turning it into a customer.
    var keepAsLead: Bool

    static let identityKeys: Set<String> = ["externalUserId", "phones", "emails"]

    /// Reads the wrappers' context object strictly, naming the offending field.
    init(wrapper value: JSONValue, path: String = "context") throws(InvalidParameter) {
        let input = try WireInput(value, path: path)
        try input.rejectUnknownKeys(["userIdentity", "userAttributes", "forceDepersonalize", "keepAsLead"])

        guard case .value(let identity) = try input.object("userIdentity") else {
            throw InvalidParameter(field: input.fieldPath("userIdentity"), reason: "is required (an object)")
        }
        try identity.rejectUnknownKeys(Self.identityKeys)
        externalUserId = try identity.string("externalUserId").value
        phones = try identity.strings("phones").value
        emails = try identity.strings("emails").value

        if case .value(let attributes) = try input.object("userAttributes") {
            try attributes.rejectUnknownKeys(UserData.attributeKeys)
            userAttributes = try UserData.parseUpdate(attributes)
        }
        forceDepersonalize = try input.bool("forceDepersonalize").value ?? false
        keepAsLead = try input.bool("keepAsLead").value ?? false
    }

    /// The request body: `{"userIdentity": {...}, "userAttributes": {...}}` in the
    /// Mobile API's shape (phones and emails as objects). The flags go in the query.
    var apiBody: JSONValue {
        var identity = UserData()
        identity.externalUserId = externalUserId
        identity.phones = phones
        identity.emails = emails
        var body: JSONObject = ["userIdentity": .object(identity.apiFields())]
        if let userAttributes {
            let attributes = userAttributes.patchBody(base: nil)
            if !attributes.isEmpty { body["userAttributes"] = .object(attributes) }
        }
        return .object(body)
    }
}
