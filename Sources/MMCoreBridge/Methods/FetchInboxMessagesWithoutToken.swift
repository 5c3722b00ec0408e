import JSONRPC
import MMCoreEngine

/// `fetchInboxMessagesWithoutToken(externalUserId, filterOptions)`: the person's inbox
/// with `App <applicationCode>` (refused by a server that requires a token).
public struct FetchInboxMessagesWithoutToken: BridgeMethod {
    public static let name = Call.fetchInboxMessagesWithoutToken.rawValue
    public static let parameterNames = ["externalUserId", "filterOptions"]
    let externalUserId: String
    let options: InboxFilterOptions

    public init(arguments: BridgeArguments) throws {
        externalUserId = try arguments.externalUserId()
        options = try InboxFilterOptions(argument: arguments["filterOptions"])
    }

    public func admit(on session: Session) throws -> Admission {
        .running(try session.admitFetchInbox(token: nil, externalUserId: externalUserId, options: options))
    }
}
