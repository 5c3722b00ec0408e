import JSON

// MARK: - Calls by JSON arguments (admit, then wait for the answer)

/// For hosts and tests that hold a session directly: each method decodes its arguments
/// as the bridge does, is admitted in the order these are called, and waits for its answer.
extension Session {
    /// Admits a call of `method` with `arguments` by name and waits for its answer.
    public func call<Method: BridgeMethod>(_ method: Method.Type, _ arguments: JSONObject = [:]) async throws -> JSONValue {
        let admitted = try Method(arguments: BridgeArguments(arguments)).admit(on: self)
        return try await admitted.value()
    }

    public func initialize(_ configuration: JSONValue) async throws { _ = try await call(Initialize.self, ["configuration": configuration]) }
    public func setUserDataJwt(_ jwt: JSONValue) async throws { _ = try await call(SetUserDataJwt.self, ["jwt": jwt]) }
    public func cleanup() async throws { _ = try await call(Cleanup.self) }
    public func saveUser(_ userData: JSONValue) async throws -> JSONValue { try await call(SaveUser.self, ["userData": userData]) }
    public func fetchUser() async throws -> JSONValue { try await call(FetchUser.self) }
    public func getUser() async throws -> JSONValue { try await call(GetUser.self) }
    public func personalize(_ context: JSONValue) async throws -> JSONValue { try await call(Personalize.self, ["context": context]) }
    public func depersonalize() async throws -> JSONValue { try await call(Depersonalize.self) }
    public func saveInstallation(_ installation: JSONValue) async throws -> JSONValue {
        try await call(SaveInstallation.self, ["installation": installation])
    }
    public func fetchInstallation() async throws -> JSONValue { try await call(FetchInstallation.self) }
    public func getInstallation() async throws -> JSONValue { try await call(GetInstallation.self) }
    public func setInstallationAsPrimary(pushRegistrationId: JSONValue, primary: JSONValue) async throws -> JSONValue {
        try await call(SetInstallationAsPrimary.self, ["pushRegistrationId": pushRegistrationId, "primary": primary])
    }
    public func depersonalizeInstallation(pushRegistrationId: JSONValue) async throws -> JSONValue {
        try await call(DepersonalizeInstallation.self, ["pushRegistrationId": pushRegistrationId])
    }
    public func submitEvent(_ event: JSONValue) async throws -> JSONValue { try await call(SubmitEvent.self, ["event": event]) }
    public func submitEventImmediately(_ event: JSONValue) async throws -> JSONValue {
        try await call(SubmitEventImmediately.self, ["event": event])
    }
}
