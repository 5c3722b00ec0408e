import Foundation
import GRDB
import JSON

/// Personalize's query flags (`?forceDepersonalize=&keepAsLead=&setDeviceAsPrimary=`).
struct PersonalizeOptions: Sendable {
    /// An installation already personalized as someone else first moves to a new
    /// anonymous person instead of being refused.
    var forceDepersonalize = false
    /// The person stays a `LEAD` instead of becoming a `CUSTOMER`.
    var keepAsLead = false
    /// The installation becomes its person's only primary one.
    var setDeviceAsPrimary = false
}

/// Personalize: moving an installation to the person an identity names.
struct PersonalizeStore: Sendable {
    let database: StoreDatabase

    /// Personalize (docs/mmserver.md lists its rules in order): finds the person the identity names and moves the
    /// installation there, or gives the installation's own person that identity.
    func personalize(
        pushRegId: String, identity: UserIdentity, attributes: UserChanges, options: PersonalizeOptions,
        caller: UserDataCaller, authorization: UserDataAuthorization
    ) async throws -> JSONValue {
        let now = database.now()
        return try await database.write { db in
            if case .token(let subject) = caller, subject != identity.externalUserId {
                throw StoreError.subjectMismatch
            }
            var installation = try PeopleRows.installation(db, pushRegId)
            let code = installation.applicationCode
            let candidates = try Self.people(db, applicationCode: code, matching: identity)
            if authorization == .jwtOnly, case .token(let subject) = caller {
                try Self.checkTokenMayMerge(db, candidates: candidates, subject: subject, own: installation.personId)
            }
            guard candidates.count <= 1 else { throw StoreError.ambiguousPersonalizeCandidates }
            let match = candidates.first

            var current = try PeopleRows.person(db, installation.personId)
            if current.externalUserId != nil && match != current.id {
                guard options.forceDepersonalize else { throw StoreError.personalizationImpossible }
                try PeopleRows.moveToNewAnonymousPerson(&installation, db: db, now: now)
                current = try PeopleRows.person(db, installation.personId)
            }

            var target: PersonRecord
            if let match, match != current.id {
                target = try PeopleRows.person(db, match)
                let previous = installation.personId
                installation.personId = match
                installation.isPrimary = false
                installation.updatedAt = now
                try installation.update(db)
                try PeopleRows.pruneIfEmpty(db, personId: previous)
            } else {
                target = current
            }

            if let externalUserId = identity.externalUserId {
                if target.externalUserId == nil {
                    target.externalUserId = externalUserId
                } else if target.externalUserId != externalUserId {
                    throw StoreError.identityTaken
                }
            }
            try PeopleRows.addContacts(db, person: target, kind: .email, identity.emails)
            try PeopleRows.addContacts(db, person: target, kind: .phone, identity.phones)
            if !options.keepAsLead { target.type = .customer }
            try PeopleRows.apply(attributes, to: &target, db: db, now: now)
            if options.setDeviceAsPrimary {
                try PeopleRows.makePrimary(db, &installation, now: now)
            }
            return try PeopleRows.userJSON(db, target)
        }
    }

    // MARK: Helpers inside a transaction

    /// Under JWT_ONLY the token vouches for one thing: its `sub` is the external user id.
    /// An email or a phone proves nothing about who holds them, so a contact may not lead
    /// the installation into any other person, anonymous ones included (their data would
    /// be merged with the caller's and shown to it). The installation's own person is
    /// the caller's already.
    static func checkTokenMayMerge(_ db: Database, candidates: Set<Int64>, subject: String, own: Int64) throws {
        for id in candidates where id != own {
            guard try PeopleRows.person(db, id).externalUserId == subject else {
                throw StoreError.personalizeMergeForbidden
            }
        }
    }

    /// Ids of the people any identity field names.
    static func people(_ db: Database, applicationCode: String, matching identity: UserIdentity) throws -> Set<Int64> {
        var ids = Set<Int64>()
        if let externalUserId = identity.externalUserId {
            let found = try Int64.fetchAll(
                db, sql: "SELECT id FROM person WHERE applicationCode = ? AND externalUserId = ?",
                arguments: [applicationCode, externalUserId])
            ids.formUnion(found)
        }
        for (kind, inputs) in [(ContactRecord.Kind.email, identity.emails), (.phone, identity.phones)] {
            for input in inputs {
                let found = try Int64.fetchAll(
                    db, sql: "SELECT personId FROM contact WHERE applicationCode = ? AND kind = ? AND normalized = ?",
                    arguments: [applicationCode, kind.rawValue, input.normalized])
                ids.formUnion(found)
            }
        }
        return ids
    }
}
