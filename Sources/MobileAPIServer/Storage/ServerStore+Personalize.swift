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

extension ServerStore {
    /// Personalize (`mobile-api.md`): finds the person the identity names and moves the
    /// installation there, or gives the installation's own person that identity.
    func personalize(
        pushRegId: String, identity: UserIdentity, attributes: UserChanges, options: PersonalizeOptions,
        caller: UserDataCaller, authorization: UserDataAuthorization
    ) async throws -> JSONValue {
        let now = self.now()
        return try await write { db in
            if case .token(let subject) = caller, subject != identity.externalUserId {
                throw ServiceError.accessTokenSubjectMismatch
            }
            var installation = try Self.installation(db, pushRegId)
            let code = installation.applicationCode
            let candidates = try Self.people(db, applicationCode: code, matching: identity)
            if authorization == .jwtOnly, case .token(let subject) = caller {
                try Self.checkTokenMayMerge(db, candidates: candidates, subject: subject, own: installation.personId)
            }
            guard candidates.count <= 1 else { throw ServiceError.ambiguousPersonalizeCandidates }
            let match = candidates.first

            var current = try Self.person(db, installation.personId)
            if current.externalUserId != nil && match != current.id {
                guard options.forceDepersonalize else { throw ServiceError.personalizationImpossible }
                try Self.moveToNewAnonymousPerson(&installation, db: db, now: now)
                current = try Self.person(db, installation.personId)
            }

            var target: PersonRecord
            if let match, match != current.id {
                target = try Self.person(db, match)
                let previous = installation.personId
                installation.personId = match
                installation.isPrimary = false
                installation.updatedAt = now
                try installation.update(db)
                try Self.pruneIfEmpty(db, personId: previous)
            } else {
                target = current
            }

            if let externalUserId = identity.externalUserId {
                if target.externalUserId == nil {
                    target.externalUserId = externalUserId
                } else if target.externalUserId != externalUserId {
                    throw ServiceError.userMergeInterrupted
                }
            }
            try Self.addContacts(db, person: target, kind: .email, identity.emails)
            try Self.addContacts(db, person: target, kind: .phone, identity.phones)
            if !options.keepAsLead { target.type = .customer }
            try Self.apply(attributes, to: &target, db: db, now: now)
            if options.setDeviceAsPrimary {
                try Self.makePrimary(db, &installation, now: now)
            }
            return try Self.userJSON(db, target)
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
            guard try person(db, id).externalUserId == subject else {
                throw ServiceError.personalizeMergeForbidden
            }
        }
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
