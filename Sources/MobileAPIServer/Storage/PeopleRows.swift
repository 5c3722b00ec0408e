import Foundation
import GRDB
import JSON

/// Reads and changes of people, their contacts and installations inside a transaction the
/// caller holds: the steps the installation, user and personalize stores share.
enum PeopleRows {
    // MARK: Lookups

    static func installation(_ db: Database, _ pushRegId: String) throws -> InstallationRecord {
        guard let installation = try InstallationRecord.fetchOne(db, key: pushRegId) else {
            throw StoreError.installationNotFound(pushRegId: pushRegId)
        }
        return installation
    }

    static func person(_ db: Database, _ id: Int64) throws -> PersonRecord {
        guard let person = try PersonRecord.fetchOne(db, key: id) else {
            // Every installation has a person (foreign key); reaching this is a bug.
            throw StoreError.inconsistent("no person \(id)")
        }
        return person
    }

    static func person(_ db: Database, applicationCode: String, externalUserId: String) throws -> PersonRecord {
        try ApplicationStore.requireApplication(db, applicationCode)
        guard
            let person = try PersonRecord.filter(
                Column("applicationCode") == applicationCode && Column("externalUserId") == externalUserId
            ).fetchOne(db)
        else { throw StoreError.personNotFound(externalUserId: externalUserId) }
        return person
    }

    // MARK: Installations

    static func apply(_ changes: InstallationChanges, to installation: inout InstallationRecord) throws {
        var attributes = installation.attributeObject
        for field in changes.fields { attributes[field.key] = field.value }
        if !changes.customAttributes.isEmpty {
            let current = attributes["customAttributes"]?.objectValue ?? JSONObject()
            let merged = try merge(changes.customAttributes, into: current, field: "customAttributes")
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

    /// Makes `installation` its person's only primary installation.
    static func makePrimary(_ db: Database, _ installation: inout InstallationRecord, now: Date) throws {
        try db.execute(
            sql: "UPDATE installation SET isPrimary = 0, updatedAt = ? WHERE personId = ? AND pushRegId != ? AND isPrimary",
            arguments: [now, installation.personId, installation.pushRegId])
        installation.isPrimary = true
        installation.updatedAt = now
        try installation.update(db)
    }

    /// Deletes a person that is only a shell: no installation, no identity, no data, no events.
    /// Registration creates one per installation; without this, each personalize of
    /// a fresh installation would leave an empty lead behind.
    static func pruneIfEmpty(_ db: Database, personId: Int64) throws {
        guard let person = try PersonRecord.fetchOne(db, key: personId), person.externalUserId == nil,
            person.firstName == nil, person.lastName == nil, person.middleName == nil, person.birthday == nil,
            person.gender == nil, person.tagList.isEmpty, person.customAttributeObject.isEmpty,
            try InstallationRecord.filter(Column("personId") == personId).fetchCount(db) == 0,
            try ContactRecord.filter(Column("personId") == personId).fetchCount(db) == 0,
            // Events stay attributed to the person they arrived for.
            try CustomEventRecord.filter(Column("personId") == personId).fetchCount(db) == 0
        else { return }
        try person.delete(db)
    }

    // MARK: People

    static func apply(_ changes: UserChanges, to person: inout PersonRecord, db: Database, now: Date) throws {
        let newExternalUserId = changes.externalUserId.applied(to: person.externalUserId)
        if let newExternalUserId, newExternalUserId != person.externalUserId {
            let taken = try PersonRecord.filter(
                Column("applicationCode") == person.applicationCode && Column("externalUserId") == newExternalUserId
            ).fetchCount(db)
            if taken > 0 { throw StoreError.identityTaken }
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
            let merged = try merge(changes.customAttributes, into: person.customAttributeObject, field: "customAttributes")
            person.customAttributes = JSONValue.object(merged).serialized
        }
        if let emails = changes.emails { try replaceContacts(db, person: person, kind: .email, emails) }
        if let phones = changes.phones { try replaceContacts(db, person: person, kind: .phone, phones) }
        person.updatedAt = now
        try person.update(db)
    }

    /// Applies custom attribute changes to a stored object, enforcing the count limit.
    static func merge(
        _ changes: [(key: String, value: JSONValue?)], into current: JSONObject, field: String
    ) throws -> JSONObject {
        var merged = current
        for change in changes { merged[change.key] = change.value }
        guard merged.count <= Limits.count else {
            throw StoreError.limitExceeded(what: "\(field) would hold more than \(Limits.count) attributes")
        }
        return merged
    }

    // MARK: Contacts

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
            if let owner, owner != person.id { throw StoreError.identityTaken }
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
            throw StoreError.limitExceeded(what: "A user can have at most \(Limits.count) \(kind.rawValue)s")
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
