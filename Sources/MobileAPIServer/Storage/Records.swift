import Foundation
import GRDB

/// Who may read and change user data through the Mobile API: the application
/// profile's security setting (docs/mmserver.md, "User-data authorization").
public enum UserDataAuthorization: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// `App <code>` is enough; a Bearer token, if sent, must still be valid.
    case allowAll = "ALLOW_ALL"
    /// User data needs `Bearer <jwt>`; the external user id changes only by personalize.
    case jwtOnly = "JWT_ONLY"
    /// The SDK cannot touch user data at all; only the server-side people API can.
    case disallowAll = "DISALLOW_ALL"
}

/// A person's type in the Mobile API: anonymous leads become customers when personalized.
enum PersonType: String, Sendable, Codable, DatabaseValueConvertible {
    case lead = "LEAD"
    case customer = "CUSTOMER"
}

// MARK: - Rows

/// An application profile: its code is what `Authorization: App <code>` names.
struct ApplicationRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "application"
    var code: String
    var name: String
    var userDataAuthorization: UserDataAuthorization
    var createdAt: Date
    /// Where this application's clients are told to go (`New-Base-URL`); `nil`: here.
    var baseUrl: String?
}

/// A secret key for user-data JWTs. The secret is kept as the hex text handed out,
/// because that is what the app's backend holds too; HMAC uses its decoded bytes.
struct SecretKeyRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "secretKey"
    var keyId: String
    var applicationCode: String
    var secret: String
    var createdAt: Date
    var revokedAt: Date?
}

/// A person of one application. Emails and phones live in `ContactRecord` rows so that
/// the database itself enforces their uniqueness per application.
struct PersonRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "person"
    var id: Int64?
    var applicationCode: String
    var externalUserId: String?
    var firstName: String?
    var lastName: String?
    var middleName: String?
    var birthday: String?
    var gender: String?
    var type: PersonType
    /// JSON array of strings.
    var tags: String
    /// JSON object.
    var customAttributes: String
    var createdAt: Date
    var updatedAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    static func anonymous(applicationCode: String, now: Date) -> PersonRecord {
        PersonRecord(
            id: nil, applicationCode: applicationCode, externalUserId: nil, firstName: nil, lastName: nil,
            middleName: nil, birthday: nil, gender: nil, type: .lead, tags: "[]", customAttributes: "{}",
            createdAt: now, updatedAt: now)
    }
}

/// An email address or phone number of a person.
struct ContactRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    enum Kind: String, Codable, Sendable, DatabaseValueConvertible {
        case email
        case phone
    }

    static let databaseTableName = "contact"
    var id: Int64?
    var personId: Int64
    var applicationCode: String
    var kind: Kind
    /// As the client sent it.
    var value: String
    /// The form uniqueness is checked on: lowercased email, digits-only phone number.
    var normalized: String
    var preferred: Bool
    var position: Int

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// An installation (an app on a device). Its scalar fields are kept as one JSON object:
/// they are validated on the way in and only ever read back whole.
struct InstallationRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "installation"
    var pushRegId: String
    var applicationCode: String
    var personId: Int64
    var isPrimary: Bool
    /// JSON object of the other installation fields.
    var attributes: String
    var createdAt: Date
    var updatedAt: Date
}
