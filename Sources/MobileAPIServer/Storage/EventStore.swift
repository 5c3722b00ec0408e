import Foundation
import GRDB
import JSON

/// Custom event definitions and the events installations report against them.
struct EventStore: Sendable {
    let database: StoreDatabase

    // MARK: Definitions

    func createDefinition(applicationCode: String, _ input: EventDefinitionInput) async throws -> EventDefinitionRecord {
        let now = database.now()
        return try await database.write { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            guard try Self.definition(db, applicationCode: applicationCode, input.definitionId) == nil else {
                throw StoreError.eventDefinitionExists(definitionId: input.definitionId)
            }
            var record = EventDefinitionRecord(
                id: nil, applicationCode: applicationCode, definitionId: input.definitionId, name: input.name,
                properties: JSONValue.array(input.properties.map(\.json)).serialized, createdAt: now)
            try record.insert(db)
            return record
        }
    }

    func definitions(applicationCode: String) async throws -> [EventDefinitionRecord] {
        try await database.read { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            return try EventDefinitionRecord.filter(Column("applicationCode") == applicationCode)
                .order(Column("id")).fetchAll(db)
        }
    }

    /// Events already stored against the definition stay as they are.
    func deleteDefinition(applicationCode: String, definitionId: String) async throws {
        try await database.write { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            guard let record = try Self.definition(db, applicationCode: applicationCode, definitionId) else {
                throw StoreError.eventDefinitionNotFound(definitionId: definitionId)
            }
            _ = try record.delete(db)
        }
    }

    // MARK: Events

    /// Stores `events` for the installation's person as of now. With `validate`, the first
    /// event that does not fit the definitions refuses the whole request and nothing is
    /// stored; without, such events are stored marked invalid, with the reason.
    func submit(_ events: [SubmittedEvent], pushRegId: String, validate: Bool) async throws {
        let now = database.now()
        try await database.write { db in
            let installation = try PeopleRows.installation(db, pushRegId)
            let person = try PeopleRows.person(db, installation.personId)
            let records = try EventDefinitionRecord.filter(Column("applicationCode") == installation.applicationCode)
                .fetchAll(db)
            let definitions = Dictionary(records.map { ($0.definitionId, $0.propertyList) }, uniquingKeysWith: { a, _ in a })
            let problems = events.map { EventCheck.problem($0, definitions: definitions) }
            if validate, let problem = problems.lazy.compactMap({ $0 }).first {
                throw StoreError.eventRejected(problem)
            }
            for (event, problem) in zip(events, problems) {
                var record = CustomEventRecord(
                    id: nil, applicationCode: installation.applicationCode, definitionId: event.definitionId,
                    date: event.date, properties: JSONValue.object(event.properties).serialized, pushRegId: pushRegId,
                    personId: installation.personId, externalUserId: person.externalUserId, valid: problem == nil,
                    invalidReason: problem?.description, receivedAt: now)
                try record.insert(db)
            }
        }
    }

    /// The application's events, oldest first; `personId` and `valid` narrow the list.
    func events(applicationCode: String, personId: Int64? = nil, valid: Bool? = nil) async throws -> JSONValue {
        try await database.read { db in
            try ApplicationStore.requireApplication(db, applicationCode)
            var request = CustomEventRecord.filter(Column("applicationCode") == applicationCode)
            if let personId { request = request.filter(Column("personId") == personId) }
            if let valid { request = request.filter(Column("valid") == valid) }
            return .array(try request.order(Column("id")).fetchAll(db).map(\.json))
        }
    }

    /// The events attributed to the person with this external user id (including those
    /// that arrived while the person was still anonymous).
    func events(applicationCode: String, externalUserId: String) async throws -> JSONValue {
        try await database.read { db in
            let person = try PeopleRows.person(db, applicationCode: applicationCode, externalUserId: externalUserId)
            return .array(
                try CustomEventRecord.filter(Column("personId") == person.id).order(Column("id")).fetchAll(db).map(\.json))
        }
    }

    static func definition(_ db: Database, applicationCode: String, _ definitionId: String) throws -> EventDefinitionRecord? {
        try EventDefinitionRecord.filter(
            Column("applicationCode") == applicationCode && Column("definitionId") == definitionId
        ).fetchOne(db)
    }
}
