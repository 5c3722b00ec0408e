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

/// A person's data: the Mobile API's user endpoints and the admin people API.
struct UserStore: Sendable {
    let database: StoreDatabase

    func user(pushRegId: String, caller: UserDataCaller) async throws -> JSONValue {
        try await database.read { db in
            let installation = try PeopleRows.installation(db, pushRegId)
            let person = try PeopleRows.person(db, installation.personId)
            if case .token(let subject) = caller, subject != person.externalUserId {
                throw StoreError.subjectMismatch
            }
            return try PeopleRows.userJSON(db, person)
        }
    }

    /// A user PATCH. The token's subject must be the user acted on: the current external
    /// user id, or under ALLOW_ALL the one this PATCH sets. Under JWT_ONLY the external
    /// user id cannot change here at all.
    func patchUser(
        pushRegId: String, changes: UserChanges, caller: UserDataCaller, authorization: UserDataAuthorization
    ) async throws -> JSONValue {
        let now = database.now()
        return try await database.write { db in
            let installation = try PeopleRows.installation(db, pushRegId)
            var person = try PeopleRows.person(db, installation.personId)
            let newExternalUserId = changes.externalUserId.applied(to: person.externalUserId)
            let changesExternalUserId = newExternalUserId != person.externalUserId
            if case .token(let subject) = caller {
                let actedOn = authorization == .jwtOnly ? person.externalUserId : newExternalUserId
                guard subject == actedOn else { throw StoreError.subjectMismatch }
            }
            if authorization == .jwtOnly && changesExternalUserId {
                throw StoreError.externalUserIdChangeForbidden
            }
            try PeopleRows.apply(changes, to: &person, db: db, now: now)
            return try PeopleRows.userJSON(db, person)
        }
    }

    // MARK: Admin people API

    func people(applicationCode: String) async throws -> JSONValue {
        try await database.read { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            let people = try PersonRecord.filter(Column("applicationCode") == applicationCode)
                .order(Column("id")).fetchAll(db)
            return .array(try people.map { try PeopleRows.adminPersonJSON(db, $0) })
        }
    }

    func person(applicationCode: String, externalUserId: String) async throws -> JSONValue {
        try await database.read { db in
            let person = try PeopleRows.person(db, applicationCode: applicationCode, externalUserId: externalUserId)
            return try PeopleRows.adminPersonJSON(db, person)
        }
    }

    func patchPerson(applicationCode: String, externalUserId: String, changes: UserChanges) async throws -> JSONValue {
        let now = database.now()
        return try await database.write { db in
            var person = try PeopleRows.person(db, applicationCode: applicationCode, externalUserId: externalUserId)
            try PeopleRows.apply(changes, to: &person, db: db, now: now)
            return try PeopleRows.adminPersonJSON(db, person)
        }
    }

    /// Deletes the person; its installations stay registered, each with a new anonymous person.
    func deletePerson(applicationCode: String, externalUserId: String) async throws {
        let now = database.now()
        try await database.write { db in
            let person = try PeopleRows.person(db, applicationCode: applicationCode, externalUserId: externalUserId)
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
}
