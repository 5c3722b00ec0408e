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
