import JSON
import Logging

/// This installation and the person's other installations: `saveInstallation`,
/// `fetchInstallation`, `getInstallation`, `setInstallationAsPrimary` and
/// `depersonalizeInstallation`, each as the step that runs on the lane.
@EngineActor
final class InstallationService {
    private let parts: CallParts

    init(_ parts: CallParts) {
        self.parts = parts
    }

    /// `saveInstallation`: sends the fields that differ from the server copy and answers
    /// the installation afterwards; emits `installationUpdated` when it changed. A change
    /// that cannot reach the server is kept for a retry.
    func save(_ update: RecordUpdate<Installation>) async throws(MobileMessagingError) -> JSONValue {
        let own = try await parts.registration.installationID()
        if let failure = await parts.delivery.flush([.saveInstallation]).failure {
            guard !parts.state.isClosed else { throw failure }
            try parts.delivery.keep(.saveInstallation, own: own, body: update.patchBody(base: nil), after: failure)
            throw failure.markedPending
        }
        let base = parts.state.installation
        let body = update.patchBody(base: base)
        if body.isEmpty, let base { return base.wrapperJSON }
        do throws(MobileMessagingError) {
            return try await parts.records.saveInstallation(body, target: own, own: own, always: false) {}.wrapperJSON
        } catch where error.isTransient {
            guard !parts.state.isClosed else { throw error }
            parts.logger.notice("saveInstallation could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            try parts.delivery.keep(.saveInstallation, own: own, body: body, after: error)
            throw error.markedPending
        }
    }

    /// `fetchInstallation`: this installation from the server; refreshes the local copy.
    func fetch() async throws(MobileMessagingError) -> JSONValue {
        let own = try await parts.registration.installationID()
        var installation = try await parts.backend.api.fetchInstallation(own)
        installation.pushRegistrationId = installation.pushRegistrationId ?? own
        parts.state.adopt(installation)
        return installation.wrapperJSON
    }

    /// `getInstallation`: the local copy with queued and parts.admitted changes applied; `{}`
    /// before the first parts.registration.
    func local() -> JSONValue {
        let queued = parts.state.ownID.map(parts.state.queue.installationBodies(for:)) ?? []
        // The common case, kept cheap: nothing unsent, so the server's copy is the answer.
        if queued.isEmpty && parts.admitted.isEmpty { return parts.state.installation?.wrapperJSON ?? .object([:]) }
        var object = parts.state.installation?.apiJSON.objectValue
        for body in queued { object = PendingChange.applying(body, to: object ?? [:]) }
        object = parts.admitted.applyingInstallationChanges(to: object)
        return object.map { Installation(api: $0).wrapperJSON } ?? .object([:])
    }

    /// `setInstallationAsPrimary`: marks one of the person's installations (this or
    /// another) as primary or not, then answers the person's installations.
    func setPrimary(_ target: String, primary isPrimary: Bool) async throws(MobileMessagingError) -> JSONValue {
        let own = try await parts.registration.installationID()
        let returned = try await parts.backend.api.patchInstallation(target, body: ["isPrimary": .bool(isPrimary)], own: own)
        if target == own, var installation = returned ?? parts.state.installation {
            installation.isPrimaryDevice = isPrimary
            installation.pushRegistrationId = own
            parts.state.adopt(installation)
        }
        return await installationsAfterChange(own: own) { installations in
            installations.map { installation in
                var installation = installation
                if installation.pushRegistrationId == target {
                    installation.isPrimaryDevice = isPrimary
                } else if isPrimary {
                    installation.isPrimaryDevice = false
                }
                return installation
            }
        }
    }

    /// `depersonalizeInstallation`: detaches the person from another of their
    /// installations, then answers the person's installations. For this installation,
    /// use `depersonalize`.
    func depersonalize(_ target: String) async throws -> JSONValue {
        let own = try await parts.registration.installationID()
        guard target != own else {
            throw InvalidParameter(
                field: "pushRegistrationId", reason: "is this installation's own id; use depersonalize for this installation")
        }
        try await parts.backend.api.depersonalize(target, own: own)
        return await installationsAfterChange(own: own) { installations in
            installations.filter { $0.pushRegistrationId != target }
        }
    }

    /// The person's installations after a change to one of them: read from the server
    /// (with the token when one is set and passes the checks), or, when that read is
    /// not possible, the local copy with `adjust` applied.
    private func installationsAfterChange(own: String, adjust: ([Installation]) -> [Installation]) async -> JSONValue {
        if let token = parts.authentication.tokenForOptionalRead {
            do throws(MobileMessagingError) {
                let user = try await parts.backend.api.fetchUser(own, token: token)
                parts.state.adopt(user, announcing: .userUpdated)
                return .array((user.installations ?? []).map(\.wrapperJSON))
            } catch {
                parts.logger.notice("the installations could not be read back; using the local copy", metadata: ["code": .string(error.code)])
            }
        }
        guard !parts.state.isClosed, var user = parts.state.user else { return [] }
        let installations = adjust(user.installations ?? [])
        user.installations = installations
        parts.state.replaceUser(user)
        return .array(installations.map(\.wrapperJSON))
    }
}
