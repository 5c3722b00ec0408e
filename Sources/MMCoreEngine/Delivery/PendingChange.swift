import JSON

/// A change the server has not accepted yet, kept so it is delivered after a restart.
///
/// The durable sync queue: `depersonalize`, unsent `saveUser` / `saveInstallation`
/// changes with their PATCH `body`, and inbox seen marks (`inboxSeen`); never a token: a
/// queued change is sent with the token current when it is retried. Entries are
/// delivered oldest first.
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
                case .object(let older)?:
                    merged[member.key] = .object(CustomAttributes.merging(newer, into: older, nullDeletes: false))
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
                let known = result[member.key]?.objectValue ?? JSONObject()
                result[member.key] = .object(CustomAttributes.merging(attributes, into: known, nullDeletes: true))
            } else {
                result[member.key] = member.value.isNull ? JSONValue?.none : member.value
            }
        }
        return result
    }
}
