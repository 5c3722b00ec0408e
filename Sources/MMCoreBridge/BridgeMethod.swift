import JSON
import JSONRPC
import MMCoreEngine

/// One method of the bridge contract, stated once: its name, its parameter names in the
/// order the wrappers' native bridges pass them, and its typed arguments, decoded once
/// at the edge. `schema/openrpc.json` lists the same methods with the same parameters;
/// a test keeps the two equal.
public protocol BridgeMethod: Sendable {
    static var name: String { get }
    /// In positional order.
    static var parameterNames: [String] { get }
    /// Decodes the arguments.
    ///
    /// - Throws: ``InvalidParameter`` naming the field, or (for `init`) the error the
    ///   method answers with.
    init(arguments: BridgeArguments) throws
    /// Takes the call's place on `session`, in call order: answers at once, or hands
    /// back the work that answers once the call's turn on the session's lane comes.
    ///
    /// - Throws: the refusal that answers the call (nothing was sent or queued).
    @EngineActor func admit(on session: Session) throws -> Admission
}

/// Every method of the contract, in the schema's order.
public enum BridgeMethods {
    public static let all: [any BridgeMethod.Type] = [
        Initialize.self, SetUserDataJwt.self, SaveUser.self, FetchUser.self, GetUser.self, Personalize.self,
        Depersonalize.self, SaveInstallation.self, FetchInstallation.self, GetInstallation.self,
        SetInstallationAsPrimary.self, DepersonalizeInstallation.self, Cleanup.self,
        FetchInboxMessages.self, FetchInboxMessagesWithoutToken.self, SetInboxMessagesSeen.self, SubmitEvent.self,
        SubmitEventImmediately.self,
    ]

    /// Serves every method on `session`: the JSON-RPC layer names the positional
    /// parameters, the method type decodes them once, and the session admits the call
    /// in the order the lines were read.
    public static func register(into registry: inout MethodRegistry, session: Session) {
        for method in all {
            registry.register(admitting: method.name, parameters: method.parameterNames) { parameters in
                let call = try method.init(arguments: BridgeArguments(parameters.namedValues))
                return try await call.admit(on: session)
            }
        }
    }
}
