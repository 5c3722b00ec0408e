import JSON

/// The argument of `personalize`: who this installation now belongs to, what to set on
/// that person, and the three flags the Mobile API takes as query parameters.
///
/// Wrappers' shape: `{userIdentity: {externalUserId, phones, emails}, userAttributes,
/// forceDepersonalize, keepAsLead, setDeviceAsPrimary}`; each flag may be `null` or left
/// out (Flutter's `toJson` writes all three, `null` when unset), which means `false`, as
/// in every native bridge.
public struct PersonalizeContext: Sendable, Equatable {
    var externalUserId: String?
    var phones: [String]?
    var emails: [String]?
    /// The attributes to set, as given (`null` clears); `nil` when none were given.
    var userAttributes: RecordUpdate<UserData>?
    /// Personalize even when the installation still belongs to someone else.
    var forceDepersonalize: Bool
    /// Keep the person a lead rather than turning it into a customer.
    var keepAsLead: Bool
    /// Make this installation the person's primary one.
    var setDeviceAsPrimary: Bool

    static let identityKeys: Set<String> = ["externalUserId", "phones", "emails"]
    static let keys: Set<String> = ["userIdentity", "userAttributes", "forceDepersonalize", "keepAsLead", "setDeviceAsPrimary"]

    /// Reads the wrappers' context object strictly, naming the offending field. An
    /// identity with no field set is read (see ``hasIdentity``): refusing it is the
    /// caller's decision, with its own error code.
    public init(wrapper value: JSONValue, path: String = "context") throws(InvalidParameter) {
        let input = try WireInput(value, path: path)
        try input.rejectUnknownKeys(Self.keys)

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
        setDeviceAsPrimary = try input.bool("setDeviceAsPrimary").value ?? false
    }

    /// Whether the identity holds a field the SDKs would send: an `externalUserId` (any
    /// string, as both SDKs), or a phone or email that is not empty. iOS
    /// `MMUserIdentity.init?` refuses an identity with none (nil externalUserId, nil or
    /// empty lists); Android's plugin (`UserJson.userIdentityFromJSON`) drops empty
    /// strings and empty lists. Without one the core answers `USER_IDENTITY_INVALID`
    /// (`UserIdentity does not have any identity field set`) and sends nothing.
    var hasIdentity: Bool {
        externalUserId != nil || (phones ?? []).contains { !$0.isEmpty } || (emails ?? []).contains { !$0.isEmpty }
    }

    /// The query of `POST .../personalize`: all three flags, always, in the order of
    /// Android's `MobileApiUserData.personalize` (iOS `PostPersonalize` sends the same).
    var queryString: String {
        "forceDepersonalize=\(forceDepersonalize)&keepAsLead=\(keepAsLead)&setDeviceAsPrimary=\(setDeviceAsPrimary)"
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
