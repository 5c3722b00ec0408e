import JSON
import JSONRPC
import MMCoreBridge

@testable import MMCoreEngine

// MARK: - Calls by JSON arguments (admit, then wait for the answer)

/// The tests drive a session as the bridge does: each method decodes its arguments with
/// its bridge type, is admitted in the order these are called, and waits for its answer.
extension Session {
    /// Admits a call of `method` with `arguments` by name and waits for its answer.
    func call<Method: BridgeMethod>(_ method: Method.Type, _ arguments: JSONObject = [:]) async throws -> JSONValue {
        switch try Method(arguments: BridgeArguments(arguments)).admit(on: self) {
        case .answered(let value): return value
        case .running(let work): return try await work()
        }
    }

    func initialize(_ configuration: JSONValue) async throws { _ = try await call(Initialize.self, ["configuration": configuration]) }
    func setUserDataJwt(_ jwt: JSONValue) async throws { _ = try await call(SetUserDataJwt.self, ["jwt": jwt]) }
    func cleanup() async throws { _ = try await call(Cleanup.self) }
    func saveUser(_ userData: JSONValue) async throws -> JSONValue { try await call(SaveUser.self, ["userData": userData]) }
    func fetchUser() async throws -> JSONValue { try await call(FetchUser.self) }
    func getUser() async throws -> JSONValue { try await call(GetUser.self) }
    func personalize(_ context: JSONValue) async throws -> JSONValue { try await call(Personalize.self, ["context": context]) }
    func depersonalize() async throws -> JSONValue { try await call(Depersonalize.self) }
    func saveInstallation(_ installation: JSONValue) async throws -> JSONValue {
        try await call(SaveInstallation.self, ["installation": installation])
    }
    func fetchInstallation() async throws -> JSONValue { try await call(FetchInstallation.self) }
    func getInstallation() async throws -> JSONValue { try await call(GetInstallation.self) }
    func setInstallationAsPrimary(pushRegistrationId: JSONValue, primary: JSONValue) async throws -> JSONValue {
        try await call(SetInstallationAsPrimary.self, ["pushRegistrationId": pushRegistrationId, "primary": primary])
    }
    func depersonalizeInstallation(pushRegistrationId: JSONValue) async throws -> JSONValue {
        try await call(DepersonalizeInstallation.self, ["pushRegistrationId": pushRegistrationId])
    }
    func submitEvent(_ event: JSONValue) async throws -> JSONValue { try await call(SubmitEvent.self, ["event": event]) }
    func submitEventImmediately(_ event: JSONValue) async throws -> JSONValue {
        try await call(SubmitEventImmediately.self, ["event": event])
    }
}

extension Admission {
    /// The answer: at once, or by running the call's work (once: the lane waits for it).
    func value() async throws -> JSONValue {
        switch self {
        case .answered(let value): return value
        case .running(let work): return try await work()
        }
    }
}
