import JSON

/// Everything the core keeps across restarts: one JSON document, `state.json`.
///
/// ```json
/// {
///   "formatVersion": 1,
///   "applicationCode": "app-1",
///   "installation": { "pushRegId": "...", "regEnabled": true, ... },
///   "user": { "externalUserId": "ada", "phones": [{"number": "..."}], "instances": [...] },
///   "pendingChanges": [
///     { "id": "1", "kind": "depersonalize", "pushRegistrationId": "...",
///       "createdAt": 1800000000, "attempts": 1, "nextAttemptAt": 1800000005 }
///   ]
/// }
/// ```
///
/// The installation and the user are the last copies the server sent, in the Mobile
/// API's shape (so they are read with the same code as a response). `user` is left out
/// when `userDataPersistingDisabled` is set, and so are queued `saveUser` changes. The
/// user-data JWT is never part of it.
struct PersistedState: Sendable, Equatable {
    static let formatVersion = 1

    var applicationCode: String?
    var installation: Installation?
    var user: UserData?
    /// Work the server has not accepted yet, oldest first.
    var pendingChanges: [PendingChange] = []

    init(applicationCode: String? = nil) {
        self.applicationCode = applicationCode
    }

    /// Why a state document cannot be used; it is then moved aside.
    struct FormatError: Error {
        let reason: String
    }

    init(json value: JSONValue) throws(FormatError) {
        guard case .object(let object) = value else { throw FormatError(reason: "not a JSON object") }
        guard let version = object["formatVersion"]?.numberValue?.intValue else {
            throw FormatError(reason: "no formatVersion")
        }
        guard version == Self.formatVersion else { throw FormatError(reason: "unknown formatVersion \(version)") }

        switch object["applicationCode"] {
        case nil, .null?: applicationCode = nil
        case .string(let code)?: applicationCode = code
        default: throw FormatError(reason: "applicationCode is not a string")
        }
        installation = try Self.section(object, "installation").map(Installation.init(api:))
        user = try Self.section(object, "user").map(UserData.init(api:))

        switch object["pendingChanges"] {
        case nil, .null?: break
        case .array(let entries)?:
            for entry in entries {
                guard case .object(let fields) = entry else { throw FormatError(reason: "a pending change is not an object") }
                // A kind this version does not know (written by a newer one) is skipped, not fatal.
                if let change = PendingChange(json: fields) { pendingChanges.append(change) }
            }
        default: throw FormatError(reason: "pendingChanges is not an array")
        }
    }

    private static func section(_ object: JSONObject, _ key: String) throws(FormatError) -> JSONObject? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let section)?: return section
        default: throw FormatError(reason: "\(key) is not an object")
        }
    }

    /// The document to write; `includeUser: false` leaves the user out.
    func json(includeUser: Bool) -> JSONValue {
        var object: JSONObject = ["formatVersion": .number(JSONNumber(Self.formatVersion))]
        if let applicationCode { object["applicationCode"] = .string(applicationCode) }
        if let installation { object["installation"] = installation.apiJSON }
        if includeUser, let user { object["user"] = user.apiJSON }
        // Queued user changes are user data too: with `userDataPersistingDisabled` they
        // are retried from memory only and do not survive a restart.
        object["pendingChanges"] = .array(pendingChanges.filter { includeUser || $0.kind != .saveUser }.map(\.json))
        return .object(object)
    }

    var pendingDepersonalize: PendingChange? {
        pendingChanges.first { $0.kind == .depersonalize }
    }
}

/// A change the server has not accepted yet, kept so it is delivered after a restart.
///
/// The durable sync queue: `depersonalize`, and unsent `saveUser` / `saveInstallation`
/// changes with their PATCH `body` (never a token: a queued change is sent with the
/// token current when it is retried). Entries are delivered oldest first.
struct PendingChange: Sendable, Equatable {
    enum Kind: String, Sendable {
        case depersonalize
        case saveUser
        case saveInstallation
    }

    /// Unique within the file; lets a retry remove exactly the entry it delivered.
    var id: String
    var kind: Kind
    /// The installation the change is for.
    var pushRegistrationId: String
    /// The Mobile API body to send, for kinds that have one.
    var body: JSONObject?
    /// Seconds since the epoch.
    var createdAt: Double
    var attempts: Int
    var nextAttemptAt: Double

    init(id: String, kind: Kind, pushRegistrationId: String, body: JSONObject? = nil, createdAt: Double, attempts: Int = 0,
        nextAttemptAt: Double)
    {
        self.id = id
        self.kind = kind
        self.pushRegistrationId = pushRegistrationId
        self.body = body
        self.createdAt = createdAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
    }

    init?(json object: JSONObject) {
        guard let id = object["id"]?.stringValue,
            let kind = object["kind"]?.stringValue.flatMap(Kind.init(rawValue:)),
            let pushRegistrationId = object["pushRegistrationId"]?.stringValue
        else { return nil }
        self.id = id
        self.kind = kind
        self.pushRegistrationId = pushRegistrationId
        body = object["body"]?.objectValue
        createdAt = object["createdAt"]?.numberValue?.doubleValue ?? 0
        attempts = object["attempts"]?.numberValue?.intValue ?? 0
        nextAttemptAt = object["nextAttemptAt"]?.numberValue?.doubleValue ?? 0
    }

    var json: JSONValue {
        var object: JSONObject = [
            "id": .string(id), "kind": .string(kind.rawValue), "pushRegistrationId": .string(pushRegistrationId),
        ]
        if let body { object["body"] = .object(body) }
        object["createdAt"] = .number(JSONNumber(createdAt))
        object["attempts"] = .number(JSONNumber(attempts))
        object["nextAttemptAt"] = .number(JSONNumber(nextAttemptAt))
        return .object(object)
    }
}

// MARK: - Merging queued PATCH bodies

extension PendingChange {
    /// `later` folded into `earlier` so that one PATCH has the effect of both, in order:
    /// the last write per field wins and custom attributes merge key by key. `nil` when
    /// one body cannot say it (attributes cleared with `null`, then some set again).
    static func mergedBody(_ earlier: JSONObject, _ later: JSONObject) -> JSONObject? {
        var merged = earlier
        for member in later {
            if member.key == "customAttributes", case .object(let newer) = member.value {
                switch earlier[member.key] {
                case nil:
                    merged[member.key] = member.value
                case .object(var older)?:
                    for attribute in newer { older[attribute.key] = attribute.value }
                    merged[member.key] = .object(older)
                default:
                    return nil
                }
            } else {
                merged[member.key] = member.value
            }
        }
        return merged
    }

    /// `object` (a record in the Mobile API's shape) with `body` applied as the server
    /// applies a PATCH: the local estimate when the server sends no copy back.
    static func applying(_ body: JSONObject, to object: JSONObject) -> JSONObject {
        var result = object
        for member in body {
            if member.key == "customAttributes", case .object(let attributes) = member.value {
                var merged = result[member.key]?.objectValue ?? JSONObject()
                for attribute in attributes { merged[attribute.key] = attribute.value.isNull ? JSONValue?.none : attribute.value }
                result[member.key] = .object(merged)
            } else {
                result[member.key] = member.value.isNull ? JSONValue?.none : member.value
            }
        }
        return result
    }
}
