import JSON

/// A `saveUser` argument, read from the wrappers' shape once, at admission.
public struct UserDataChange: Sendable {
    let update: RecordUpdate<UserData>

    /// - Throws: ``InvalidParameter`` naming the first offending field.
    public init(wrapper value: JSONValue, path: String = "userData") throws(InvalidParameter) {
        update = try UserData.update(from: value, path: path)
    }
}

/// A `saveInstallation` argument, read from the wrappers' shape once, at admission.
public struct InstallationChange: Sendable {
    let update: RecordUpdate<Installation>

    /// - Throws: ``InvalidParameter`` naming the first offending field.
    public init(wrapper value: JSONValue, path: String = "installation") throws(InvalidParameter) {
        update = try Installation.update(from: value, path: path)
    }
}

/// What a call admitted to the lane leaves to do: run it (once) to get its answer. The
/// lane waits for it, so the caller must run it.
public typealias CallWork = @EngineActor @Sendable () async throws -> JSONValue
