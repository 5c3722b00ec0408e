import Foundation
import GRDB
import JSON

/// Installations: registration, the caller's access to one, its fields, depersonalize.
struct InstallationStore: Sendable {
    let database: StoreDatabase

    func register(applicationCode: String, changes: InstallationChanges) async throws -> JSONValue {
        let now = database.now()
        return try await database.write { db in
            var person = PersonRecord.anonymous(applicationCode: applicationCode, now: now)
            try person.insert(db)
            var installation = InstallationRecord(
                pushRegId: Identifiers.pushRegId(), applicationCode: applicationCode, personId: person.id ?? 0,
                isPrimary: false, attributes: "{}", createdAt: now, updatedAt: now)
            try PeopleRows.apply(changes, to: &installation)
            try installation.insert(db)
            return installation.json
        }
    }

    /// The installation `pushRegId` and its application, as the caller's credentials
    /// allow: `App` names the application, which must own the installation; `Bearer`
    /// lets the installation name it. `caller` (header `pushregistrationid`) acting on
    /// another installation must belong to the same person.
    func resolve(
        pushRegId: String, credentials: Credentials, caller: String?
    ) async throws -> (ApplicationRecord, InstallationRecord) {
        try await database.read { db in
            let application: ApplicationRecord
            let installation: InstallationRecord
            switch credentials {
            case .app(let code):
                guard let app = try ApplicationRecord.fetchOne(db, key: code) else {
                    throw StoreError.unknownApplicationCode
                }
                guard let found = try InstallationRecord.fetchOne(db, key: pushRegId), found.applicationCode == code
                else { throw StoreError.installationNotFound(pushRegId: pushRegId) }
                (application, installation) = (app, found)
            case .bearer:
                guard let found = try InstallationRecord.fetchOne(db, key: pushRegId),
                    let app = try ApplicationRecord.fetchOne(db, key: found.applicationCode)
                else { throw StoreError.installationNotFound(pushRegId: pushRegId) }
                (application, installation) = (app, found)
            }
            if let caller, !caller.isEmpty, caller != pushRegId {
                guard let callerInstallation = try InstallationRecord.fetchOne(db, key: caller),
                    callerInstallation.applicationCode == application.code,
                    callerInstallation.personId == installation.personId
                else { throw StoreError.installationOfAnotherPerson(pushRegId: pushRegId) }
            }
            return (application, installation)
        }
    }

    /// `isPrimary: true` makes this the person's only primary installation.
    func patch(_ pushRegId: String, changes: InstallationChanges) async throws -> JSONValue {
        let now = database.now()
        return try await database.write { db in
            var installation = try PeopleRows.installation(db, pushRegId)
            try PeopleRows.apply(changes, to: &installation)
            if installation.isPrimary && changes.isPrimary == true {
                try db.execute(
                    sql: "UPDATE installation SET isPrimary = 0, updatedAt = ? WHERE personId = ? AND pushRegId != ?",
                    arguments: [now, installation.personId, pushRegId])
            }
            installation.updatedAt = now
            try installation.update(db)
            return installation.json
        }
    }

    /// The installation gets a new anonymous person; the old person keeps its data.
    func depersonalize(_ pushRegId: String) async throws {
        let now = database.now()
        try await database.write { db in
            var installation = try PeopleRows.installation(db, pushRegId)
            try PeopleRows.moveToNewAnonymousPerson(&installation, db: db, now: now)
        }
    }

    /// The admin listing: each installation with its person's id and external user id.
    func all(applicationCode: String) async throws -> JSONValue {
        try await database.read { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            let rows = try InstallationRecord.filter(Column("applicationCode") == applicationCode)
                .order(Column.rowID).fetchAll(db)
            return .array(
                try rows.map { installation in
                    var json = installation.json.objectValue ?? JSONObject()
                    json["personId"] = .number(JSONNumber(Int(installation.personId)))
                    let person = try PersonRecord.fetchOne(db, key: installation.personId)
                    json["externalUserId"] = person?.externalUserId.map(JSONValue.string) ?? .null
                    return .object(json)
                })
        }
    }
}
