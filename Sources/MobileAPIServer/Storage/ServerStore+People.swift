import Foundation
import GRDB
import JSON

/// Who is calling a user-data endpoint, as far as the transaction needs to know.
enum UserDataCaller: Sendable {
    /// `App <code>`: no subject to check.
    case app
    /// A verified Bearer token whose `sub` must equal the user acted on.
    case token(subject: String)
}

// MARK: - Installations

extension ServerStore {
    func register(applicationCode: String, changes: InstallationChanges) async throws -> JSONValue {
        let now = self.now()
        return try await write { db in
            var person = PersonRecord.anonymous(applicationCode: applicationCode, now: now)
            try person.insert(db)
            var installation = InstallationRecord(
                pushRegId: Identifiers.pushRegId(), applicationCode: applicationCode, personId: person.id ?? 0,
                isPrimary: false, attributes: "{}", createdAt: now, updatedAt: now)
            try Self.apply(changes, to: &installation, db: db)
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
        try await read { db in
            let application: ApplicationRecord
            let installation: InstallationRecord
            switch credentials {
            case .app(let code):
                guard let app = try ApplicationRecord.fetchOne(db, key: code) else {
                    throw ServiceError.invalidApplicationCode
                }
                guard let found = try InstallationRecord.fetchOne(db, key: pushRegId), found.applicationCode == code
                else { throw ServiceError.noRegistration(pushRegId) }
                (application, installation) = (app, found)
            case .bearer:
                guard let found = try InstallationRecord.fetchOne(db, key: pushRegId),
                    let app = try ApplicationRecord.fetchOne(db, key: found.applicationCode)
                else { throw ServiceError.noRegistration(pushRegId) }
                (application, installation) = (app, found)
            }
            if let caller, !caller.isEmpty, caller != pushRegId {
                guard let callerInstallation = try InstallationRecord.fetchOne(db, key: caller),
                    callerInstallation.applicationCode == application.code,
                    callerInstallation.personId == installation.personId
                else { throw ServiceError.installationAccessForbidden(pushRegId) }
            }
            return (application, installation)
        }
    }

    /// `isPrimary: true` makes this the person's only primary installation.
    func patchInstallation(_ pushRegId: String, changes: InstallationChanges) async throws -> JSONValue {
        let now = self.now()
        return try await write { db in
            var installation = try Self.installation(db, pushRegId)
            try Self.apply(changes, to: &installation, db: db)
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
        let now = self.now()
        try await write { db in
            var installation = try Self.installation(db, pushRegId)
            try Self.moveToNewAnonymousPerson(&installation, db: db, now: now)
        }
    }

    func installations(applicationCode: String) async throws -> JSONValue {
        try await read { db in
            guard try ApplicationRecord.exists(db, key: applicationCode) else {
                throw ServiceError.applicationNotFound(applicationCode)
            }
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

    // MARK: Helpers inside a transaction

    static func installation(_ db: Database, _ pushRegId: String) throws -> InstallationRecord {
        guard let installation = try InstallationRecord.fetchOne(db, key: pushRegId) else {
            throw ServiceError.noRegistration(pushRegId)
        }
        return installation
    }

    static func apply(_ changes: InstallationChanges, to installation: inout InstallationRecord, db: Database) throws {
        var attributes = installation.attributeObject
        for field in changes.fields { attributes[field.key] = field.value }
        if !changes.customAttributes.isEmpty {
            let current = attributes["customAttributes"]?.objectValue ?? JSONObject()
            let merged = try Validate.merge(changes.customAttributes, into: current, field: "customAttributes")
            attributes["customAttributes"] = merged.isEmpty ? nil : .object(merged)
        }
        installation.attributes = JSONValue.object(attributes).serialized
        if let isPrimary = changes.isPrimary { installation.isPrimary = isPrimary }
    }

    static func moveToNewAnonymousPerson(_ installation: inout InstallationRecord, db: Database, now: Date) throws {
        let previous = installation.personId
        var person = PersonRecord.anonymous(applicationCode: installation.applicationCode, now: now)
        try person.insert(db)
        installation.personId = person.id ?? 0
        installation.isPrimary = false
        installation.updatedAt = now
        try installation.update(db)
        try pruneIfEmpty(db, personId: previous)
    }

    /// Deletes a person that is only a shell: no installation, no identity, no data.
    /// Registration creates one per installation; without this, each personalize of
    /// a fresh installation would leave an empty lead behind.
    static func pruneIfEmpty(_ db: Database, personId: Int64) throws {
        guard let person = try PersonRecord.fetchOne(db, key: personId), person.externalUserId == nil,
            person.firstName == nil, person.lastName == nil, person.middleName == nil, person.birthday == nil,
            person.gender == nil, person.tagList.isEmpty, person.customAttributeObject.isEmpty,
            try InstallationRecord.filter(Column("personId") == personId).fetchCount(db) == 0,
            try ContactRecord.filter(Column("personId") == personId).fetchCount(db) == 0
        else { return }
        try person.delete(db)
    }
}

// MARK: - Users

extension ServerStore {
    func user(pushRegId: String, caller: UserDataCaller) async throws -> JSONValue {
        try await read { db in
            let installation = try Self.installation(db, pushRegId)
            let person = try Self.person(db, installation.personId)
            if case .token(let subject) = caller, subject != person.externalUserId {
                throw ServiceError.accessTokenSubjectMismatch
            }
            return try Self.userJSON(db, person)
        }
    }

    /// A user PATCH. The token's subject must be the user acted on: the current external
    /// user id, or under ALLOW_ALL the one this PATCH sets. Under JWT_ONLY the external
    /// user id cannot change here at all.
    func patchUser(
        pushRegId: String, changes: UserChanges, caller: UserDataCaller, authorization: UserDataAuthorization
    ) async throws -> JSONValue {
        let now = self.now()
        return try await write { db in
            let installation = try Self.installation(db, pushRegId)
            var person = try Self.person(db, installation.personId)
            let newExternalUserId = changes.externalUserId.applied(to: person.externalUserId)
            let changesExternalUserId = newExternalUserId != person.externalUserId
            if case .token(let subject) = caller {
                let actedOn = authorization == .jwtOnly ? person.externalUserId : newExternalUserId
                guard subject == actedOn else { throw ServiceError.accessTokenSubjectMismatch }
            }
            if authorization == .jwtOnly && changesExternalUserId {
                throw ServiceError.externalUserIdChangeForbidden
            }
            try Self.apply(changes, to: &person, db: db, now: now)
            return try Self.userJSON(db, person)
        }
    }

    // MARK: Admin people API

    func people(applicationCode: String) async throws -> JSONValue {
        try await read { db in
            guard try ApplicationRecord.exists(db, key: applicationCode) else {
                throw ServiceError.applicationNotFound(applicationCode)
            }
            let people = try PersonRecord.filter(Column("applicationCode") == applicationCode)
                .order(Column("id")).fetchAll(db)
            return .array(try people.map { try Self.adminPersonJSON(db, $0) })
        }
    }

    func person(applicationCode: String, externalUserId: String) async throws -> JSONValue {
        try await read { db in
            try Self.adminPersonJSON(db, try Self.person(db, applicationCode: applicationCode, externalUserId: externalUserId))
        }
    }

    func patchPerson(applicationCode: String, externalUserId: String, changes: UserChanges) async throws -> JSONValue {
        let now = self.now()
        return try await write { db in
            var person = try Self.person(db, applicationCode: applicationCode, externalUserId: externalUserId)
            try Self.apply(changes, to: &person, db: db, now: now)
            return try Self.adminPersonJSON(db, person)
        }
    }

    /// Deletes the person; its installations stay registered, each with a new anonymous person.
    func deletePerson(applicationCode: String, externalUserId: String) async throws {
        let now = self.now()
        try await write { db in
            let person = try Self.person(db, applicationCode: applicationCode, externalUserId: externalUserId)
            guard let id = person.id else { return }
            for var installation in try InstallationRecord.filter(Column("personId") == id).fetchAll(db) {
                var anonymous = PersonRecord.anonymous(applicationCode: applicationCode, now: now)
                try anonymous.insert(db)
                installation.personId = anonymous.id ?? 0
                installation.isPrimary = false
                installation.updatedAt = now
                try installation.update(db)
            }
            _ = try person.delete(db)
        }
    }

    // MARK: Helpers inside a transaction

    static func person(_ db: Database, _ id: Int64) throws -> PersonRecord {
        guard let person = try PersonRecord.fetchOne(db, key: id) else {
            // Every installation has a person (foreign key); reaching this is a bug.
            throw ServiceError.internalError
        }
        return person
    }

    static func person(_ db: Database, applicationCode: String, externalUserId: String) throws -> PersonRecord {
        guard try ApplicationRecord.exists(db, key: applicationCode) else {
            throw ServiceError.applicationNotFound(applicationCode)
        }
        guard
            let person = try PersonRecord.filter(
                Column("applicationCode") == applicationCode && Column("externalUserId") == externalUserId
            ).fetchOne(db)
        else { throw ServiceError.personNotFound(externalUserId) }
        return person
    }

    static func apply(_ changes: UserChanges, to person: inout PersonRecord, db: Database, now: Date) throws {
        let newExternalUserId = changes.externalUserId.applied(to: person.externalUserId)
        if let newExternalUserId, newExternalUserId != person.externalUserId {
            let taken = try PersonRecord.filter(
                Column("applicationCode") == person.applicationCode && Column("externalUserId") == newExternalUserId
            ).fetchCount(db)
            if taken > 0 { throw ServiceError.userMergeInterrupted }
        }
        person.externalUserId = newExternalUserId
        person.firstName = changes.firstName.applied(to: person.firstName)
        person.lastName = changes.lastName.applied(to: person.lastName)
        person.middleName = changes.middleName.applied(to: person.middleName)
        person.birthday = changes.birthday.applied(to: person.birthday)
        person.gender = changes.gender.applied(to: person.gender)
        if let tags = changes.tags {
            person.tags = JSONValue.array(tags.map(JSONValue.string)).serialized
        }
        if !changes.customAttributes.isEmpty {
            let merged = try Validate.merge(changes.customAttributes, into: person.customAttributeObject, field: "customAttributes")
            person.customAttributes = JSONValue.object(merged).serialized
        }
        if let emails = changes.emails { try replaceContacts(db, person: person, kind: .email, emails) }
        if let phones = changes.phones { try replaceContacts(db, person: person, kind: .phone, phones) }
        person.updatedAt = now
        try person.update(db)
    }

    static func contacts(_ db: Database, personId: Int64?, kind: ContactRecord.Kind) throws -> [ContactRecord] {
        try ContactRecord.filter(Column("personId") == personId && Column("kind") == kind.rawValue)
            .order(Column("position")).fetchAll(db)
    }

    /// Refuses an address another person of the application already has.
    static func checkNotTaken(_ db: Database, person: PersonRecord, kind: ContactRecord.Kind, _ inputs: [ContactInput]) throws {
        for input in inputs {
            let owner = try Int64.fetchOne(
                db, sql: "SELECT personId FROM contact WHERE applicationCode = ? AND kind = ? AND normalized = ?",
                arguments: [person.applicationCode, kind.rawValue, input.normalized])
            if let owner, owner != person.id { throw ServiceError.userMergeInterrupted }
        }
    }

    static func replaceContacts(_ db: Database, person: PersonRecord, kind: ContactRecord.Kind, _ inputs: [ContactInput]) throws {
        guard let personId = person.id else { return }
        try checkNotTaken(db, person: person, kind: kind, inputs)
        try ContactRecord.filter(Column("personId") == personId && Column("kind") == kind.rawValue).deleteAll(db)
        for (position, input) in inputs.enumerated() {
            var record = ContactRecord(
                id: nil, personId: personId, applicationCode: person.applicationCode, kind: kind, value: input.value,
                normalized: input.normalized, preferred: input.preferred, position: position)
            try record.insert(db)
        }
    }

    /// Adds the addresses the person does not have yet (personalize extends an identity).
    static func addContacts(_ db: Database, person: PersonRecord, kind: ContactRecord.Kind, _ inputs: [ContactInput]) throws {
        guard let personId = person.id, !inputs.isEmpty else { return }
        try checkNotTaken(db, person: person, kind: kind, inputs)
        let existing = try contacts(db, personId: personId, kind: kind)
        let known = Set(existing.map(\.normalized))
        let added = inputs.filter { !known.contains($0.normalized) }
        guard existing.count + added.count <= Limits.count else {
            throw ServiceError.requestFormatInvalid("A user can have at most \(Limits.count) \(kind.rawValue)s")
        }
        for (offset, input) in added.enumerated() {
            var record = ContactRecord(
                id: nil, personId: personId, applicationCode: person.applicationCode, kind: kind, value: input.value,
                normalized: input.normalized, preferred: input.preferred, position: existing.count + offset)
            try record.insert(db)
        }
    }

    // MARK: JSON

    /// The Mobile API's user shape, with `instances`.
    static func userJSON(_ db: Database, _ person: PersonRecord) throws -> JSONValue {
        var user = JSONObject()
        if let externalUserId = person.externalUserId { user["externalUserId"] = .string(externalUserId) }
        if let firstName = person.firstName { user["firstName"] = .string(firstName) }
        if let lastName = person.lastName { user["lastName"] = .string(lastName) }
        if let middleName = person.middleName { user["middleName"] = .string(middleName) }
        if let birthday = person.birthday { user["birthday"] = .string(birthday) }
        if let gender = person.gender { user["gender"] = .string(gender) }
        user["type"] = .string(person.type.rawValue)
        user["emails"] = .array(
            try contacts(db, personId: person.id, kind: .email).map {
                ["address": .string($0.value), "preferred": .bool($0.preferred)]
            })
        user["phones"] = .array(
            try contacts(db, personId: person.id, kind: .phone).map {
                ["number": .string($0.value), "preferred": .bool($0.preferred)]
            })
        user["tags"] = .array(person.tagList.map(JSONValue.string))
        user["customAttributes"] = .object(person.customAttributeObject)
        let installations = try InstallationRecord.filter(Column("personId") == person.id)
            .order(Column.rowID).fetchAll(db)
        user["instances"] = .array(installations.map(\.json))
        return .object(user)
    }

    /// The admin API's person: the user shape plus the internal id (anonymous people
    /// have no other handle).
    static func adminPersonJSON(_ db: Database, _ person: PersonRecord) throws -> JSONValue {
        var json = try userJSON(db, person).objectValue ?? JSONObject()
        json["id"] = .number(JSONNumber(Int(person.id ?? 0)))
        return .object(json)
    }
}

extension InstallationRecord {
    /// The Mobile API's installation shape.
    var json: JSONValue {
        let attributes = attributeObject
        var json = JSONObject()
        json["pushRegId"] = .string(pushRegId)
        json["regEnabled"] = attributes["regEnabled"] ?? .bool(true)
        for key in InstallationChanges.outputOrder where key != "regEnabled" {
            if let value = attributes[key] { json[key] = value }
        }
        json["isPrimary"] = .bool(isPrimary)
        json["customAttributes"] = attributes["customAttributes"] ?? .object(JSONObject())
        return .object(json)
    }
}
