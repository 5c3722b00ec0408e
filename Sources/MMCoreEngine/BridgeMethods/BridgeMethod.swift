import JSON

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
    /// Takes the call's place on `session`, in call order: answers at once, or queues the
    /// call on the session's serial lane (see ``Admitted``).
    func admit(on session: isolated Session) -> Admitted
}

/// Every method of the contract, in the schema's order.
public enum BridgeMethods {
    public static let all: [any BridgeMethod.Type] = [
        Initialize.self, SetUserDataJwt.self, SaveUser.self, FetchUser.self, GetUser.self, Personalize.self,
        Depersonalize.self, SaveInstallation.self, FetchInstallation.self, GetInstallation.self,
        SetInstallationAsPrimary.self, DepersonalizeInstallation.self, Cleanup.self,
        FetchInboxMessages.self, FetchInboxMessagesWithoutToken.self, SetInboxMessagesSeen.self,
    ]
}

/// A call's arguments by name (positional ones already named by the JSON-RPC layer); an
/// explicit `null` is present, not absent.
public struct BridgeArguments: Sendable {
    public let values: JSONObject

    public init(_ values: JSONObject = [:]) { self.values = values }

    public subscript(name: String) -> JSONValue? { values[name] }

    /// The value (possibly `null`); absent is an invalid parameter.
    public func require(_ name: String) throws(InvalidParameter) -> JSONValue {
        guard let value = values[name] else { throw InvalidParameter(field: name, reason: "is required") }
        return value
    }

    /// A non-empty `pushRegistrationId`-like string.
    func identifier(_ name: String) throws(InvalidParameter) -> String {
        let value = try require(name)
        guard case .string(let id) = value else {
            throw InvalidParameter(field: name, reason: "must be a string, got \(value.typeName)")
        }
        guard !id.isEmpty else { throw InvalidParameter(field: name, reason: "must not be empty") }
        return id
    }
}

/// What admitting a call decided.
public enum Admitted: Sendable {
    /// Answered at admission (a local read, a refusal before anything is sent).
    case answered(Result<JSONValue, any Error>)
    /// Queued on the serial lane; the task answers.
    case queued(Task<JSONValue, any Error>)

    static func failed(_ error: any Error) -> Admitted { .answered(.failure(error)) }
    static func value(_ value: JSONValue) -> Admitted { .answered(.success(value)) }

    /// The answer, waiting for the lane when queued.
    public func value() async throws -> JSONValue {
        switch self {
        case .answered(let result): try result.get()
        case .queued(let task): try await task.value
        }
    }
}
