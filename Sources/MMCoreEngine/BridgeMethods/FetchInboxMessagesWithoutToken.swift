/// `fetchInboxMessagesWithoutToken(externalUserId, filterOptions)`: the person's inbox
/// with `App <applicationCode>` (refused by a server that requires a token).
public struct FetchInboxMessagesWithoutToken: BridgeMethod {
    public static let name = "fetchInboxMessagesWithoutToken"
    public static let parameterNames = ["externalUserId", "filterOptions"]
    let externalUserId: String
    let options: InboxFilterOptions

    public init(arguments: BridgeArguments) throws {
        externalUserId = try arguments.externalUserId()
        options = try InboxFilterOptions(argument: arguments["filterOptions"])
    }

    public func admit(on session: isolated Session) -> Admitted {
        session.admitFetchInbox(token: nil, externalUserId: externalUserId, options: options)
    }
}
