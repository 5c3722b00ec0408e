import JSON

/// Changes admitted to the lane and not finished yet, so that a local read made after
/// them sees them (`getUser` after a pipelined `saveUser`), as the native SDKs show a
/// user with its local changes applied.
///
/// Each entry is removed when its call finishes: by then the change is in the server's
/// copy, in the sync queue, or refused.
@EngineActor
final class LocalChanges {
    enum Change: Sendable {
        /// A `saveUser` PATCH body, in the Mobile API's shape.
        case user(JSONObject)
        /// A `depersonalize`: the person leaves this installation.
        case userRemoved
        /// A `saveInstallation` PATCH body, in the Mobile API's shape.
        case installation(JSONObject)
    }

    private var entries: [(ticket: Int, change: Change)] = []
    private var nextTicket = 0

    func add(_ change: Change) -> Int {
        nextTicket += 1
        entries.append((nextTicket, change))
        return nextTicket
    }

    func remove(_ ticket: Int) {
        entries.removeAll { $0.ticket == ticket }
    }

    var isEmpty: Bool { entries.isEmpty }

    /// `user` (Mobile API shape) with the admitted user changes applied in order.
    func applyingUserChanges(to user: JSONObject?) -> JSONObject? {
        var user = user
        for entry in entries {
            switch entry.change {
            case .user(let body): user = PendingChange.applying(body, to: user ?? [:])
            case .userRemoved: user = nil
            case .installation: break
            }
        }
        return user
    }

    /// `installation` (Mobile API shape) with the admitted installation changes applied.
    func applyingInstallationChanges(to installation: JSONObject?) -> JSONObject? {
        var installation = installation
        for entry in entries {
            if case .installation(let body) = entry.change {
                installation = PendingChange.applying(body, to: installation ?? [:])
            }
        }
        return installation
    }
}
