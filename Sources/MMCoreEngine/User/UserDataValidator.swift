import JSON

/// The People API's limits on user data, checked before `saveUser` or `personalize`
/// sends anything, as both native SDKs do: iOS
/// `Classes/MobileMessaging/Core/User/UserDataValidator.swift`, Android
/// `infobip-mobile-messaging-android-sdk/.../mobileapi/user/UserDataValidator.java`.
///
/// The sentences and the description's frame are the SDKs' own (they agree word for
/// word). Where they differ this follows Android: lengths are UTF-16 code units (Java's
/// `String.length()`, what a Java server counts; iOS counts grapheme clusters), and the
/// order is Android's (`externalUserId`, emails, phones, names, custom attributes). A
/// personalize context lists its identity's and its attributes' violations together;
/// both SDKs would report the identity's alone first.
enum UserDataValidator {
    static let maxFirstNameLength = 255
    static let maxLastNameLength = 255
    static let maxMiddleNameLength = 50
    static let maxExternalUserIdLength = 256
    static let maxEmailLength = 255
    static let maxEmailCount = 100
    static let maxPhoneCount = 100
    static let maxCustomAttributeValueLength = 4096
    static let documentationURL = "https://www.infobip.com/docs/api/customer-engagement/people/update-a-person"

    // MARK: - Violations

    /// Every limit the values of `update` break, one sentence each; empty when none.
    /// Fields given as `null` (cleared) break nothing.
    static func violations(of update: RecordUpdate<UserData>) -> [String] {
        var found: [String] = []
        let user = update.values
        checkIdentity(externalUserId: user.externalUserId, emails: user.emails, phones: user.phones, into: &found)
        checkAttributes(user, into: &found)
        return found
    }

    /// Every limit the identity and the attributes of `context` break, identity first.
    static func violations(of context: PersonalizeContext) -> [String] {
        var found: [String] = []
        checkIdentity(externalUserId: context.externalUserId, emails: context.emails, phones: context.phones, into: &found)
        if let attributes = context.userAttributes { checkAttributes(attributes.values, into: &found) }
        return found
    }

    // MARK: - Descriptions

    /// The description of a `USER_DATA_VALIDATION_FAILED` error for `update`, or `nil`
    /// when it is within the limits.
    static func validationDescription(of update: RecordUpdate<UserData>) -> String? {
        description(of: violations(of: update))
    }

    /// The description of a `USER_DATA_VALIDATION_FAILED` error for `context`, or `nil`
    /// when it is within the limits.
    static func validationDescription(of context: PersonalizeContext) -> String? {
        description(of: violations(of: context))
    }

    /// The SDKs' message: a header line, `  - <violation>` per violation, then where the
    /// limits are documented. `nil` for no violations.
    static func description(of violations: [String]) -> String? {
        guard !violations.isEmpty else { return nil }
        var text = "User data validation failed:\n"
        for violation in violations { text += "  - \(violation)\n" }
        text += "\nPlease check the field limits at: \(documentationURL)"
        return text
    }

    // MARK: - Checks

    private static func checkIdentity(externalUserId: String?, emails: [String]?, phones: [String]?, into found: inout [String]) {
        checkLength(externalUserId, name: "externalUserId", limit: maxExternalUserIdLength, into: &found)
        if let emails {
            if emails.count > maxEmailCount {
                found.append("emails count exceeds maximum of \(maxEmailCount) (actual: \(emails.count))")
            }
            for email in emails {
                checkLength(email, name: "email '\(email)'", limit: maxEmailLength, into: &found)
            }
        }
        if let phones, phones.count > maxPhoneCount {
            found.append("phones count exceeds maximum of \(maxPhoneCount) (actual: \(phones.count))")
        }
    }

    private static func checkAttributes(_ user: UserData, into found: inout [String]) {
        checkLength(user.firstName, name: "firstName", limit: maxFirstNameLength, into: &found)
        checkLength(user.lastName, name: "lastName", limit: maxLastNameLength, into: &found)
        checkLength(user.middleName, name: "middleName", limit: maxMiddleNameLength, into: &found)
        for member in user.customAttributes ?? [:] {
            guard let text = attributeText(member.value) else { continue }
            let length = length(of: text)
            if length > maxCustomAttributeValueLength {
                found.append(
                    "customAttribute '\(member.key)' value exceeds maximum length of \(maxCustomAttributeValueLength) characters (actual: \(length))"
                )
            }
        }
    }

    private static func checkLength(_ value: String?, name: String, limit: Int, into found: inout [String]) {
        guard let value else { return }
        let length = length(of: value)
        if length > limit {
            found.append("\(name) exceeds maximum length of \(limit) characters (actual: \(length))")
        }
    }

    /// Characters as Android counts them: UTF-16 code units.
    static func length(of text: String) -> Int { text.utf16.count }

    /// A custom attribute's value as the SDKs measure it: a string as is, a scalar as
    /// its text, a list as its JSON (compact, as sent). `nil` (not measured) for `null`.
    static func attributeText(_ value: JSONValue) -> String? {
        switch value {
        case .null: nil
        case .string(let text): text
        case .number(let number): number.text
        case .bool(let flag): flag ? "true" : "false"
        case .array, .object: value.serialized
        }
    }
}
