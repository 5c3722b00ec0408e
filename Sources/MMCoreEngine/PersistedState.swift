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
///
/// Pending changes are promises to deliver, so none is ever dropped quietly: a
/// malformed entry makes the whole document unusable (`FormatError`, the file is moved
/// aside as corrupt), and an entry of a kind this version does not know (written by a
/// newer one) is kept as it is and written back, after the known ones.
struct PersistedState: Sendable, Equatable {
    static let formatVersion = 1

    var applicationCode: String?
    var installation: Installation?
    var user: UserData?
    /// Work the server has not accepted yet, oldest first.
    var pendingChanges: [PendingChange] = []
    /// Pending changes of kinds a newer version wrote: not delivered by this one, but
    /// kept, so going back to that version loses nothing.
    var unrecognizedPendingChanges: [JSONObject] = []
    /// Where the service moved this application (`New-Base-URL`), learned under the
    /// `backendBaseURL` it keeps; written as `baseURL: {configured, dynamic?, checkedAt?}`.
    var route: BaseURLRoute?

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
        if let route = try Self.section(object, "baseURL") {
            guard let configured = route["configured"]?.stringValue else { throw FormatError(reason: "baseURL.configured is not a string") }
            self.route = BaseURLRoute(
                configured: configured, dynamic: route["dynamic"]?.stringValue, lastCheck: route["checkedAt"]?.numberValue?.doubleValue)
        }
        user = try Self.section(object, "user").map(UserData.init(api:))

        switch object["pendingChanges"] {
        case nil, .null?: break
        case .array(let entries)?:
            var ids = Set<String>()
            for (index, entry) in entries.enumerated() {
                let position = "pending change \(index + 1)"
                guard case .object(let fields) = entry else { throw FormatError(reason: "\(position): not an object") }
                guard case .string(let kindName)? = fields["kind"] else {
                    throw FormatError(reason: "\(position): kind is not a string")
                }
                guard let kind = PendingChange.Kind(rawValue: kindName) else {
                    unrecognizedPendingChanges.append(fields)
                    continue
                }
                let change: PendingChange
                do {
                    change = try PendingChange(json: fields, kind: kind)
                } catch {
                    throw FormatError(reason: "\(position): \(error.reason)")
                }
                // Deliveries remove their entry by id: two with one id would be ambiguous.
                guard ids.insert(change.id).inserted else { throw FormatError(reason: "\(position): id \(change.id) is used twice") }
                pendingChanges.append(change)
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
        if let route, route.dynamic != nil || route.lastCheck != nil {
            var fields: JSONObject = ["configured": .string(route.configured)]
            if let dynamic = route.dynamic { fields["dynamic"] = .string(dynamic) }
            if let checkedAt = route.lastCheck { fields["checkedAt"] = .number(JSONNumber(checkedAt)) }
            object["baseURL"] = .object(fields)
        }
        if includeUser, let user { object["user"] = user.apiJSON }
        // Queued user changes are user data too: with `userDataPersistingDisabled` they
        // are retried from memory only and do not survive a restart.
        object["pendingChanges"] = .array(
            pendingChanges.filter { includeUser || !$0.kind.holdsUserData }.map(\.json) + unrecognizedPendingChanges.map(JSONValue.object))
        return .object(object)
    }

    /// Whether the document `json(includeUser:)` writes holds work the server has not
    /// accepted: then the file is its only copy (see `StateStore.Durability`).
    func holdsPendingWork(includeUser: Bool) -> Bool {
        !unrecognizedPendingChanges.isEmpty || pendingChanges.contains { includeUser || !$0.kind.holdsUserData }
    }

    var pendingDepersonalize: PendingChange? {
        pendingChanges.first { $0.kind == .depersonalize }
    }
}

/// A change the server has not accepted yet, kept so it is delivered after a restart.
///
/// The durable sync queue: `depersonalize`, unsent `saveUser` / `saveInstallation`
/// changes with their PATCH `body`, and inbox seen marks (`inboxSeen`; never a token: a queued change is sent with the
/// token current when it is retried). Entries are delivered oldest first.
struct PendingChange: Sendable, Equatable {
    enum Kind: String, Sendable {
        case depersonalize
        case saveUser
        case saveInstallation
        /// `setInboxMessagesSeen` marks (`Inbox/InboxSeenMarks.swift`); sent with `App`.
        case inboxSeen

        /// Whether the change concerns the person on this installation: such changes
        /// are ordered against each other (a `saveUser` never crosses a depersonalize).
        /// Installation changes and inbox marks (for a person named in the mark) are not.
        var isUserSide: Bool { self == .saveUser || self == .depersonalize }

        /// Whether the change holds user data, which `userDataPersistingDisabled` keeps
        /// out of the file: a user change, or inbox marks (an external user id).
        var holdsUserData: Bool { self == .saveUser || self == .inboxSeen }
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

    /// Reads an entry of a known `kind`. The numbers may be missing (0), not wrong.
    init(json object: JSONObject, kind: Kind) throws(PersistedState.FormatError) {
        guard case .string(let id)? = object["id"] else { throw .init(reason: "id is not a string") }
        guard case .string(let pushRegistrationId)? = object["pushRegistrationId"] else {
            throw .init(reason: "pushRegistrationId is not a string")
        }
        self.id = id
        self.kind = kind
        self.pushRegistrationId = pushRegistrationId
        switch object["body"] {
        case nil, .null?: body = nil
        case .object(let fields)?: body = fields
        default: throw .init(reason: "body is not an object")
        }
        createdAt = try Self.number("createdAt", in: object)
        nextAttemptAt = try Self.number("nextAttemptAt", in: object)
        switch object["attempts"] {
        case nil: attempts = 0
        case .number(let number)? where number.intValue != nil: attempts = number.intValue!
        default: throw .init(reason: "attempts is not an integer")
        }
        if kind == .inboxSeen, body.flatMap(InboxSeenMarks.init(queued:)) == nil {
            throw .init(reason: "body is not a list of inbox seen marks")
        }
    }

    private static func number(_ key: String, in object: JSONObject) throws(PersistedState.FormatError) -> Double {
        switch object[key] {
        case nil: return 0
        case .number(let number)?: return number.doubleValue
        default: throw .init(reason: "\(key) is not a number")
        }
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
