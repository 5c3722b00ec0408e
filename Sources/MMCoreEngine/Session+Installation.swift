import JSON
import Logging
import UserDataJWT

// MARK: - Installation calls

extension Session {
    /// `saveInstallation`: sends the fields that differ from the server copy and answers
    /// the installation afterwards; emits `installationUpdated` when it changed.
    func admitSaveInstallation(_ update: RecordUpdate<Installation>) -> Admitted {
        return enqueue("saveInstallation", local: .installation(update.patchBody(base: nil))) { session in
            try await session.saveInstallationOnLane(update)
        }
    }

    /// `fetchInstallation`: this installation from the server; refreshes the local copy.
    func admitFetchInstallation() -> Admitted {
        return enqueue("fetchInstallation") { session in
            let epoch = session.epoch
            let own = try await session.registeredInstallationID()
            var installation = try await session.requireAPI().fetchInstallation(own)
            installation.pushRegistrationId = installation.pushRegistrationId ?? own
            if session.isCurrent(epoch) { session.storeInstallation(installation) }
            return installation.wrapperJSON
        }
    }

    /// `getInstallation`: the local copy with queued and admitted changes applied; `{}`
    /// before the first registration.
    func localInstallation() throws(MobileMessagingError) -> JSONValue {
        try requireConfiguration()
        let queued = state.installation?.pushRegistrationId.map(queue.installationBodies(for:)) ?? []
        // The common case, kept cheap: nothing unsent, so the server's copy is the answer.
        if queued.isEmpty && admittedChanges.isEmpty { return state.installation?.wrapperJSON ?? .object([:]) }
        var object = state.installation?.apiJSON.objectValue
        for body in queued { object = PendingChange.applying(body, to: object ?? [:]) }
        object = admittedChanges.applyingInstallationChanges(to: object)
        return object.map { Installation(api: $0).wrapperJSON } ?? .object([:])
    }

    /// `setInstallationAsPrimary`: marks one of the person's installations (this or
    /// another) as primary or not, then answers the person's installations.
    func admitSetInstallationAsPrimary(_ target: String, primary isPrimary: Bool) -> Admitted {
        return enqueue("setInstallationAsPrimary") { session in
            let epoch = session.epoch
            let own = try await session.registeredInstallationID()
            let api = try session.requireAPI()
            let returned = try await api.patchInstallation(target, body: ["isPrimary": .bool(isPrimary)], own: own)
            if target == own, session.isCurrent(epoch), var installation = returned ?? session.state.installation {
                installation.isPrimaryDevice = isPrimary
                installation.pushRegistrationId = own
                session.storeInstallation(installation)
            }
            return await session.installationsAfterChange(own: own, epoch: epoch) { installations in
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
    }

    /// `depersonalizeInstallation`: detaches the person from another of their
    /// installations, then answers the person's installations. For this installation,
    /// use `depersonalize`.
    func admitDepersonalizeInstallation(_ target: String) -> Admitted {
        return enqueue("depersonalizeInstallation") { session in
            let epoch = session.epoch
            let own = try await session.registeredInstallationID()
            guard target != own else {
                throw InvalidParameter(
                    field: "pushRegistrationId", reason: "is this installation's own id; use depersonalize for this installation")
            }
            try await session.requireAPI().depersonalize(target, own: own)
            return await session.installationsAfterChange(own: own, epoch: epoch) { installations in
                installations.filter { $0.pushRegistrationId != target }
            }
        }
    }

    // MARK: On the lane

    private func saveInstallationOnLane(_ update: RecordUpdate<Installation>) async throws(MobileMessagingError) -> JSONValue {
        let epoch = self.epoch
        let own = try await registeredInstallationID()
        if let failure = await flushQueue(epoch: epoch, kinds: [.saveInstallation]) {
            guard isCurrent(epoch) else { throw failure }
            try keepForRetry(.saveInstallation, own: own, body: update.patchBody(base: nil), after: failure)
            throw failure.markedPending
        }
        let base = state.installation
        let body = update.patchBody(base: base)
        if body.isEmpty, let base { return base.wrapperJSON }
        let api = try requireAPI()
        let returned: Installation?
        do throws(MobileMessagingError) {
            returned = try await api.patchInstallation(own, body: body, own: own)
        } catch where error.isTransient {
            guard isCurrent(epoch) else { throw error }
            logger.notice("saveInstallation could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            try keepForRetry(.saveInstallation, own: own, body: body, after: error)
            throw error.markedPending
        }
        var saved: Installation
        if let returned {
            saved = returned
        } else if let fetched = try? await api.fetchInstallation(own) {
            saved = fetched
        } else {
            saved = update.applied(to: base)
        }
        saved.pushRegistrationId = saved.pushRegistrationId ?? own
        if isCurrent(epoch) { storeInstallation(saved) }
        return saved.wrapperJSON
    }

    /// The person's installations after a change to one of them: read from the server
    /// (with the token when one is set and passes the checks), or, when that read is
    /// not possible, the local copy with `adjust` applied.
    func installationsAfterChange(own: String, epoch: Int, adjust: ([Installation]) -> [Installation]) async -> JSONValue {
        let usableToken = try? tokens.validated(now: clock.now)
        if let api, tokens.token == nil || usableToken != nil {
            do throws(MobileMessagingError) {
                let user = try await api.fetchUser(own, token: usableToken ?? nil)
                if isCurrent(epoch) { storeUser(user, event: .userUpdated) }
                return .array((user.installations ?? []).map(\.wrapperJSON))
            } catch {
                logger.notice(
                    "the installations could not be read back; using the local copy", metadata: ["code": .string(error.code)])
            }
        }
        guard isCurrent(epoch), var user = state.user else { return [] }
        let installations = adjust(user.installations ?? [])
        user.installations = installations
        state.user = user
        persist()
        return .array(installations.map(\.wrapperJSON))
    }
}
