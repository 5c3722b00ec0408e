import Foundation
import GRDB
import JSON

/// The server's data in SQLite, one store per responsibility over one database.
///
/// Every operation is one transaction, so a check (is this email taken? does the token's
/// `sub` match this person?) and the change it guards cannot be separated by another
/// request. Operations render their JSON inside the transaction for the same reason.
/// Failures are ``StoreError``s; the routes decide what HTTP makes of them.
public final class ServerStore: Sendable {
    let applications: ApplicationStore
    let installations: InstallationStore
    let users: UserStore
    let personalization: PersonalizeStore
    let events: EventStore
    let inbox: InboxStore

    init(_ location: DatabaseLocation, now: @escaping @Sendable () -> Date) throws {
        let database = StoreDatabase(writer: try ServerDatabase.open(location), now: now)
        applications = ApplicationStore(database: database)
        installations = InstallationStore(database: database)
        users = UserStore(database: database)
        personalization = PersonalizeStore(database: database)
        events = EventStore(database: database)
        inbox = InboxStore(database: database)
    }
}

/// The database and the clock every store shares.
struct StoreDatabase: Sendable {
    let writer: any DatabaseWriter
    let now: @Sendable () -> Date

    /// Runs `body` in a write transaction. A unique-index violation that slipped past the
    /// explicit checks is an identity another person holds.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError.identityTaken
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.read(body)
    }
}

// MARK: - Identifiers and secrets

enum Identifiers {
    static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return String(byte, radix: 16).leftPadded(to: 2)
        }.joined()
    }

    static func pushRegId() -> String { UUID().uuidString.lowercased() }
    static func keyId() -> String { UUID().uuidString.lowercased() }
    static func applicationCode() -> String { randomHex(bytes: 16) }
    /// 32 random bytes as 64 hex characters: HS256 wants a key as long as its output.
    static func secret() -> String { randomHex(bytes: 32) }

    /// Application codes travel in a header and in URLs: keep them plain.
    static func isValidApplicationCode(_ code: String) -> Bool {
        (1...128).contains(code.count)
            && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

// MARK: - JSON columns

extension JSONValue {
    static func parseStored(_ text: String) -> JSONValue {
        (try? JSONParser.parse(text)) ?? .null
    }
}

extension PersonRecord {
    var tagList: [String] {
        JSONValue.parseStored(tags).arrayValue?.compactMap(\.stringValue) ?? []
    }
    var customAttributeObject: JSONObject {
        JSONValue.parseStored(customAttributes).objectValue ?? JSONObject()
    }
}

extension InstallationRecord {
    var attributeObject: JSONObject {
        JSONValue.parseStored(attributes).objectValue ?? JSONObject()
    }
}

enum Timestamp {
    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
