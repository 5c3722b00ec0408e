import Foundation
import GRDB
import JSON

/// Application profiles and their secret keys.
struct ApplicationStore: Sendable {
    let database: StoreDatabase

    func create(code: String?, name: String?, authorization: UserDataAuthorization?) async throws -> ApplicationRecord {
        let now = database.now()
        return try await database.write { db in
            let code = code ?? Identifiers.applicationCode()
            if try ApplicationRecord.exists(db, key: code) { throw StoreError.applicationExists(code: code) }
            let record = ApplicationRecord(
                code: code, name: name ?? "Application \(code.prefix(8))",
                userDataAuthorization: authorization ?? .allowAll, createdAt: now)
            try record.insert(db)
            return record
        }
    }

    func all() async throws -> [ApplicationRecord] {
        try await database.read { db in try ApplicationRecord.order(Column.rowID).fetchAll(db) }
    }

    func application(_ code: String) async throws -> ApplicationRecord? {
        try await database.read { db in try ApplicationRecord.fetchOne(db, key: code) }
    }

    /// The application `code`, or ``StoreError/applicationNotFound(code:)``.
    func existing(_ code: String) async throws -> ApplicationRecord {
        guard let application = try await application(code) else { throw StoreError.applicationNotFound(code: code) }
        return application
    }

    func update(_ code: String, name: String?, authorization: UserDataAuthorization?) async throws -> ApplicationRecord {
        try await database.write { db in
            var record = try Self.application(db, code)
            if let name { record.name = name }
            if let authorization { record.userDataAuthorization = authorization }
            try record.update(db)
            return record
        }
    }

    /// Sets (or with `nil` clears) the base URL the application's clients are steered to.
    func setBaseURL(_ code: String, _ baseUrl: String?) async throws -> ApplicationRecord {
        try await database.write { db in
            var record = try Self.application(db, code)
            record.baseUrl = baseUrl
            try record.update(db)
            return record
        }
    }

    // MARK: Keys

    func createKey(applicationCode: String) async throws -> SecretKeyRecord {
        let now = database.now()
        return try await database.write { db in
            try Self.requireApplication(db, applicationCode)
            let key = SecretKeyRecord(
                keyId: Identifiers.keyId(), applicationCode: applicationCode, secret: Identifiers.secret(),
                createdAt: now, revokedAt: nil)
            try key.insert(db)
            return key
        }
    }

    func keys(applicationCode: String) async throws -> [SecretKeyRecord] {
        try await database.read { db in
            try Self.requireApplication(db, applicationCode)
            return try SecretKeyRecord.filter(Column("applicationCode") == applicationCode)
                .order(Column.rowID).fetchAll(db)
        }
    }

    /// Revoking is immediate: verification reads the key on every request.
    func revokeKey(applicationCode: String, keyId: String) async throws -> SecretKeyRecord {
        let now = database.now()
        return try await database.write { db in
            guard var key = try SecretKeyRecord.fetchOne(db, key: keyId), key.applicationCode == applicationCode else {
                throw StoreError.keyNotFound(keyId: keyId)
            }
            if key.revokedAt == nil {
                key.revokedAt = now
                try key.update(db)
            }
            return key
        }
    }

    /// The key `keyId` if it is an active key of this application, else `nil`.
    func activeKey(applicationCode: String, keyId: String) async throws -> SecretKeyRecord? {
        try await database.read { db in
            try SecretKeyRecord.filter(
                Column("keyId") == keyId && Column("applicationCode") == applicationCode && Column("revokedAt") == nil
            ).fetchOne(db)
        }
    }

    func newestActiveKey(applicationCode: String) async throws -> SecretKeyRecord? {
        try await database.read { db in
            try SecretKeyRecord.filter(Column("applicationCode") == applicationCode && Column("revokedAt") == nil)
                .order(Column.rowID.desc).fetchOne(db)
        }
    }

    // MARK: Helpers inside a transaction

    static func application(_ db: Database, _ code: String) throws -> ApplicationRecord {
        guard let record = try ApplicationRecord.fetchOne(db, key: code) else {
            throw StoreError.applicationNotFound(code: code)
        }
        return record
    }

    static func requireApplication(_ db: Database, _ code: String) throws {
        guard try ApplicationRecord.exists(db, key: code) else { throw StoreError.applicationNotFound(code: code) }
    }
}

// MARK: - JSON

extension ApplicationRecord {
    var json: JSONValue {
        var json: JSONObject = [
            "code": .string(code), "name": .string(name), "userDataAuthorization": .string(userDataAuthorization.rawValue),
        ]
        if let baseUrl { json["baseUrl"] = .string(baseUrl) }
        return .object(json)
    }
}

extension SecretKeyRecord {
    /// The listing form: never the secret.
    var listingJSON: JSONValue {
        [
            "keyId": .string(keyId), "createdAt": .string(Timestamp.iso8601(createdAt)),
            "revoked": .bool(revokedAt != nil),
        ]
    }
}
