import JSON
import JSONRPC
import MMCoreEngine

/// `fetchInboxMessages(token, externalUserId, filterOptions)`: the person's inbox with
/// `Bearer <token>`. The token is checked as the user-data JWT is, and must be issued
/// for `externalUserId` (`sub`); it is used for this call only.
public struct FetchInboxMessages: BridgeMethod {
    public static let name = Call.fetchInboxMessages.rawValue
    public static let parameterNames = ["token", "externalUserId", "filterOptions"]
    let token: String
    let externalUserId: String
    let options: InboxFilterOptions

    public init(arguments: BridgeArguments) throws {
        let token = try arguments.require("token")
        guard case .string(let text) = token else {
            throw InvalidParameter(field: "token", reason: "must be a string, got \(token.typeName)")
        }
        self.token = text
        externalUserId = try arguments.externalUserId()
        options = try InboxFilterOptions(argument: arguments["filterOptions"])
    }

    public func admit(on session: Session) throws -> Admission {
        .running(try session.admitFetchInbox(token: token, externalUserId: externalUserId, options: options))
    }
}

extension BridgeArguments {
    /// The inbox calls' `externalUserId`: a string with something in it (the Android SDK
    /// returns without an answer for a blank one).
    func externalUserId() throws(InvalidParameter) -> String {
        let value = try require("externalUserId")
        guard case .string(let id) = value else {
            throw InvalidParameter(field: "externalUserId", reason: "must be a string, got \(value.typeName)")
        }
        guard !InboxFilterOptions.isBlank(id) else { throw InvalidParameter(field: "externalUserId", reason: "must not be blank") }
        return id
    }
}
