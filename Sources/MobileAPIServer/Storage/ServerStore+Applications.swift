import Foundation
import GRDB
import JSON

// MARK: - Application profiles and their keys

extension ServerStore {
    func createApplication(
        code: String?, name: String?, authorization: UserDataAuthorization?
    ) async throws -> ApplicationRecord {
        let now = self.now()
        return try await writer.write { db in
            let code = code ?? Identifiers.applicationCode()
            if try ApplicationRecord.exists(db, key: code) { throw ServiceError.applicationExists(code) }
            let record = ApplicationRecord(
                code: code, name: name ?? "Application \(code.prefix(8))",
                userDataAuthorization: authorization ?? .allowAll, createdAt: now)
            try record.insert(db)
            return record
        }
    }

    func applications() async throws -> [ApplicationRecord] {
        try await read { db in try ApplicationRecord.order(Column.rowID).fetchAll(db) }
    }

    func application(_ code: String) async throws -> ApplicationRecord? {
        try await read { db in try ApplicationRecord.fetchOne(db, key: code) }
    }

    func updateApplication(
        _ code: String, name: String?, authorization: UserDataAuthorization?
    ) async throws -> ApplicationRecord {
        try await writer.write { db in
            guard var record = try ApplicationRecord.fetchOne(db, key: code) else {
                throw ServiceError.applicationNotFound(code)
            }
            if let name { record.name = name }
            if let authorization { record.userDataAuthorization = authorization }
            try record.update(db)
            return record
        }
    }

    /// Sets (or with `nil` clears) the base URL the application's clients are steered to.
    func setBaseURL(_ code: String, _ baseUrl: String?) async throws -> ApplicationRecord {
        try await writer.write { db in
            guard var record = try ApplicationRecord.fetchOne(db, key: code) else {
                throw ServiceError.applicationNotFound(code)
            }
            record.baseUrl = baseUrl
            try record.update(db)
            return record
        }
    }

    func createKey(applicationCode: String) async throws -> SecretKeyRecord {
        let now = self.now()
        return try await writer.write { db in
            guard try ApplicationRecord.exists(db, key: applicationCode) else {
                throw ServiceError.applicationNotFound(applicationCode)
            }
            let key = SecretKeyRecord(
                keyId: Identifiers.keyId(), applicationCode: applicationCode, secret: Identifiers.secret(),
                createdAt: now, revokedAt: nil)
            try key.insert(db)
            return key
        }
    }

    func keys(applicationCode: String) async throws -> [SecretKeyRecord] {
        try await read { db in
            guard try ApplicationRecord.exists(db, key: applicationCode) else {
                throw ServiceError.applicationNotFound(applicationCode)
            }
            return try SecretKeyRecord.filter(Column("applicationCode") == applicationCode)
                .order(Column.rowID).fetchAll(db)
        }
    }

    /// Revoking is immediate: verification reads the key on every request.
    func revokeKey(applicationCode: String, keyId: String) async throws -> SecretKeyRecord {
        let now = self.now()
        return try await writer.write { db in
            guard var key = try SecretKeyRecord.fetchOne(db, key: keyId), key.applicationCode == applicationCode else {
                throw ServiceError.keyNotFound(keyId)
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
        try await read { db in
            try SecretKeyRecord.filter(
                Column("keyId") == keyId && Column("applicationCode") == applicationCode && Column("revokedAt") == nil
            ).fetchOne(db)
        }
    }

    func newestActiveKey(applicationCode: String) async throws -> SecretKeyRecord? {
        try await read { db in
            try SecretKeyRecord.filter(Column("applicationCode") == applicationCode && Column("revokedAt") == nil)
                .order(Column.rowID.desc).fetchOne(db)
        }
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

enum Timestamp {
    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
