import JSON
import JSONRPC
import MMCoreEngine

/// `setInboxMessagesSeen(externalUserId, messageIds)`: marks the messages seen; answers
/// the ids given. Ids already seen are not sent again; marks that cannot be sent now are
/// kept in the durable queue (`pending: true`).
public struct SetInboxMessagesSeen: BridgeMethod {
    public static let name = Call.setInboxMessagesSeen.rawValue
    public static let parameterNames = ["externalUserId", "messageIds"]
    let externalUserId: String
    let messageIds: [String]

    public init(arguments: BridgeArguments) throws {
        externalUserId = try arguments.externalUserId()
        let value = try arguments.require("messageIds")
        guard case .array(let elements) = value else {
            throw InvalidParameter(field: "messageIds", reason: "must be an array of strings, got \(value.typeName)")
        }
        // The Android SDK returns without an answer for an empty list.
        guard !elements.isEmpty else { throw InvalidParameter(field: "messageIds", reason: "must not be empty") }
        var ids: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let id) = element else {
                throw InvalidParameter(field: "messageIds[\(index)]", reason: "must be a string, got \(element.typeName)")
            }
            guard !InboxFilterOptions.isBlank(id) else { throw InvalidParameter(field: "messageIds[\(index)]", reason: "must not be blank") }
            ids.append(id)
        }
        messageIds = ids
    }

    public func admit(on session: Session) throws -> Admission {
        .running(try session.admitSetInboxMessagesSeen(externalUserId: externalUserId, messageIds: messageIds))
    }
}
