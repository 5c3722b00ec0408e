import Foundation

import JSON

/// What a user PATCH (or personalize's `userAttributes`) asks to change, validated.
///
/// Absent fields stay as they are; `null` clears; emails, phones and tags given are the
/// new lists; custom attributes merge key by key, a `null` value deleting its key.
struct UserChanges: Sendable {
    enum Scope {
        /// `PATCH .../user` and the admin people API: every user field.
        case user
        /// Personalize's `userAttributes`: no identity fields.
        case attributes
    }

    var externalUserId: FieldChange<String> = .keep
    var firstName: FieldChange<String> = .keep
    var lastName: FieldChange<String> = .keep
    var middleName: FieldChange<String> = .keep
    var birthday: FieldChange<String> = .keep
    var gender: FieldChange<String> = .keep
    var emails: [ContactInput]?
    var phones: [ContactInput]?
    var tags: [String]?
    var customAttributes: [(key: String, value: JSONValue?)] = []

    static let attributeFields: Set<String> = [
        "firstName", "lastName", "middleName", "birthday", "gender", "tags", "customAttributes",
    ]
    static let identityFields: Set<String> = ["externalUserId", "emails", "phones"]

    init() {}

    init(_ object: JSONObject, scope: Scope, prefix: String = "") throws(ServiceError) {
        let reader = FieldReader(object, prefix: prefix)
        switch scope {
        case .user:
            try reader.rejectUnknown(
                allowed: Self.attributeFields.union(Self.identityFields), readOnly: ["type", "instances"])
            if let value = reader.value("externalUserId"), !value.isNull {
                externalUserId = .set(try Validate.nonEmptyString(value, field: reader.name("externalUserId")))
            } else {
                externalUserId = try reader.stringChange("externalUserId")
            }
            if let value = reader.value("emails") {
                emails = try Validate.contacts(value, field: reader.name("emails"), kind: .email)
            }
            if let value = reader.value("phones") {
                phones = try Validate.contacts(value, field: reader.name("phones"), kind: .phone)
            }
        case .attributes:
            try reader.rejectUnknown(
                allowed: Self.attributeFields, readOnly: Self.identityFields.union(["type", "instances"]))
        }
        firstName = try reader.stringChange("firstName")
        lastName = try reader.stringChange("lastName")
        middleName = try reader.stringChange("middleName")
        birthday = try reader.stringChange("birthday")
        if case .set(let text) = birthday { _ = try Validate.birthday(text, field: reader.name("birthday")) }
        gender = try reader.stringChange("gender")
        if case .set(let text) = gender { _ = try Validate.gender(text, field: reader.name("gender")) }
        if let value = reader.value("tags") {
            tags = try Validate.tags(value, field: reader.name("tags"))
        }
        if let value = reader.value("customAttributes"), !value.isNull {
            customAttributes = try Validate.customAttributeChanges(value, field: reader.name("customAttributes"))
        }
    }
}

/// Personalize's `userIdentity`: at least one of external user id, emails, phones.
struct UserIdentity: Sendable {
    var externalUserId: String?
    var emails: [ContactInput] = []
    var phones: [ContactInput] = []

    init(externalUserId: String?, emails: [ContactInput] = [], phones: [ContactInput] = []) {
        self.externalUserId = externalUserId
        self.emails = emails
        self.phones = phones
    }

    init(_ value: JSONValue?) throws(ServiceError) {
        guard let value, !value.isNull else { throw .userIdentityInvalid }
        guard let object = value.objectValue else {
            throw .requestFormatInvalid("userIdentity must be an object, got \(value.typeName)")
        }
        let reader = FieldReader(object, prefix: "userIdentity.")
        try reader.rejectUnknown(allowed: UserChanges.identityFields)
        if let id = reader.value("externalUserId"), !id.isNull {
            let string = try Validate.string(id, field: reader.name("externalUserId"))
            if !string.trimmingCharacters(in: .whitespaces).isEmpty { externalUserId = string }
        }
        if let emails = reader.value("emails") {
            self.emails = try Validate.contacts(emails, field: reader.name("emails"), kind: .email)
        }
        if let phones = reader.value("phones") {
            self.phones = try Validate.contacts(phones, field: reader.name("phones"), kind: .phone)
        }
        guard externalUserId != nil || !emails.isEmpty || !phones.isEmpty else { throw .userIdentityInvalid }
    }
}

/// What an installation registration or PATCH asks to change, validated.
struct InstallationChanges: Sendable {
    static let stringFields: [String: Int] = [
        "sdkVersion": Limits.stringLength, "appVersion": Limits.stringLength, "os": Limits.stringLength,
        "osVersion": Limits.stringLength, "deviceManufacturer": Limits.stringLength,
        "deviceModel": Limits.stringLength, "language": Limits.stringLength,
        "deviceTimezoneOffset": Limits.stringLength, "applicationUserId": Limits.stringLength,
        "deviceName": Limits.stringLength, "pushServiceType": Limits.stringLength,
        "pushServiceToken": Limits.pushServiceTokenLength,
    ]
    static let boolFields: Set<String> = ["regEnabled", "notificationsEnabled", "deviceSecure"]
    /// Field order of the installation JSON the server returns.
    static let outputOrder = [
        "regEnabled", "notificationsEnabled", "sdkVersion", "appVersion", "os", "osVersion",
        "deviceManufacturer", "deviceModel", "deviceSecure", "language", "deviceTimezoneOffset",
        "applicationUserId", "deviceName", "pushServiceType", "pushServiceToken",
    ]

    /// Scalar fields to set (a value) or clear (`nil`).
    var fields: [(key: String, value: JSONValue?)] = []
    var customAttributes: [(key: String, value: JSONValue?)] = []
    var isPrimary: Bool?

    init(_ object: JSONObject, pushRegId: String?) throws(ServiceError) {
        let reader = FieldReader(object)
        var allowed = Set(Self.stringFields.keys).union(Self.boolFields)
        allowed.formUnion(["customAttributes", "isPrimary", "pushRegId"])
        try reader.rejectUnknown(allowed: allowed)
        // pushRegId is the server's to give; echoing it back unchanged is harmless.
        if let sent = reader.value("pushRegId"), !sent.isNull, sent.stringValue != pushRegId {
            throw .requestFormatInvalid("pushRegId is read-only and cannot be changed")
        }
        for key in object.keys {
            guard let value = object[key] else { continue }
            if let maxLength = Self.stringFields[key] {
                fields.append((key, value.isNull ? nil : .string(try Validate.string(value, field: key, maxLength: maxLength))))
            } else if Self.boolFields.contains(key) {
                fields.append((key, try reader.bool(key).map(JSONValue.bool)))
            }
        }
        isPrimary = try reader.bool("isPrimary")
        if let value = reader.value("customAttributes"), !value.isNull {
            customAttributes = try Validate.customAttributeChanges(value, field: "customAttributes")
        }
    }
}
