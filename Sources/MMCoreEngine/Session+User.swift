import JSON
import Logging

// MARK: - User calls: saveUser, fetchUser, getUser, personalize, depersonalize

extension Session {
    /// What a JWT call works with once it may send: this installation's id, the token
    /// (checked just now; `nil` means `App`), the client, and the epoch it runs in.
    struct UserCall {
        let own: String
        let token: String?
        let api: MobileAPIClient
        let epoch: Int
    }

    // MARK: Admission

    /// `saveUser`: sends the fields that differ from the last known server copy (a field
    /// left out stays as it is, `null` clears it) and answers the user as the server
    /// holds it afterwards. Uses `Bearer` when a token is set.
    func admitSaveUser(_ update: RecordUpdate<UserData>) -> Admitted {
        let checks = { () throws(MobileMessagingError) in
            // Both SDKs check the People API's limits before anything else.
            if let violations = UserDataValidator.validationDescription(of: update) { throw .userDataValidation(violations) }
            try self.preflightJWTCall()
        }
        return enqueue("saveUser", local: .user(update.patchBody(base: nil)), checks: checks) { session in
            try await session.saveUserOnLane(update)
        }
    }

    /// `fetchUser`: the user from the server; also refreshes the local copy.
    func admitFetchUser() -> Admitted {
        return enqueue("fetchUser", checks: preflightJWTCall) { session in
            try await session.withUserCall("fetchUser") { call throws(MobileMessagingError) in
                try await session.readUser(call, method: "fetchUser").wrapperJSON
            }
        }
    }

    /// `getUser`: the local copy with the changes the server has not accepted yet (queued
    /// or still on the lane) applied; `{}` when there is none.
    func localUser() throws(MobileMessagingError) -> JSONValue {
        try requireConfiguration()
        let queued = queue.userBodiesForLocalRead
        // The common case, kept cheap: nothing unsent, so the server's copy is the answer.
        if queued.isEmpty && admittedChanges.isEmpty { return state.user?.wrapperJSON ?? .object([:]) }
        var object = state.user?.apiJSON.objectValue
        for body in queued { object = PendingChange.applying(body, to: object ?? [:]) }
        object = admittedChanges.applyingUserChanges(to: object)
        return object.map { UserData(api: $0).wrapperJSON } ?? .object([:])
    }

    /// `personalize`: makes this installation belong to the person identified by
    /// `context.userIdentity`, sets `userAttributes`, and answers the person; emits
    /// `personalized`. Uses `Bearer` when a token is set.
    func admitPersonalize(_ context: PersonalizeContext) -> Admitted {
        let checks = { () throws(MobileMessagingError) in
            // The iOS SDK cannot even build such an identity; nothing is sent for it.
            guard context.hasIdentity else { throw .userIdentityInvalid }
            if let violations = UserDataValidator.validationDescription(of: context) { throw .userDataValidation(violations) }
            try self.preflightJWTCall()
        }
        return admitPersonChange { boundary in
            enqueue("personalize", checks: checks) { session in
                defer { session.personChangeEnded(boundary) }
                return try await session.personalizeOnLane(context, eventBoundary: boundary)
            }
        }
    }

    /// `depersonalize`: detaches the person from this installation (always with `App`).
    func admitDepersonalize() -> Admitted {
        let tokenGeneration = tokens.generation
        return admitPersonChange { boundary in
            enqueue("depersonalize", local: .userRemoved) { session in
                defer { session.personChangeEnded(boundary) }
                return try await session.depersonalizeOnLane(tokenGeneration: tokenGeneration, eventBoundary: boundary)
            }
        }
    }

    // MARK: On the lane

    private func saveUserOnLane(_ update: RecordUpdate<UserData>) async throws -> JSONValue {
        try await withUserCall(
            "saveUser",
            whenQueueBlocked: { own, failure throws(MobileMessagingError) in
                // Earlier changes could not be sent: this one waits behind them, merged.
                try self.keepForRetry(.saveUser, own: own, body: update.patchBody(base: nil), after: failure)
                throw failure.markedPending
            }
        ) { call throws(MobileMessagingError) in
            let base = state.user
            let body = update.patchBody(base: base)
            if body.isEmpty {
                // Nothing to change: the copy we have is the answer, or else the server's.
                guard let base else { return try await readUser(call, method: "saveUser").wrapperJSON }
                logger.debug("saveUser: nothing differs from the server copy; no request")
                return base.wrapperJSON
            }
            let returned: UserData?
            do throws(MobileMessagingError) {
                returned = try await userRequest("saveUser", token: call.token, externalUserId: base?.externalUserId) {
                    (token) async throws(MobileMessagingError) in
                    try await call.api.patchUser(call.own, body: body, token: token)
                }
            } catch where error.isTransient {
                guard isCurrent(call.epoch) else { throw error }
                logger.notice("saveUser could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
                try keepForRetry(.saveUser, own: call.own, body: body, after: error)
                throw error.markedPending
            }
            if isCurrent(call.epoch), queue.supersedeTokenBlockedFields(with: body) { persist() }
            var user: UserData
            if let returned {
                user = returned
            } else {
                do throws(MobileMessagingError) {
                    user = try await call.api.fetchUser(call.own, token: tokens.token)
                } catch {
                    logger.notice(
                        "saveUser: the saved user could not be read back; using the local estimate",
                        metadata: ["code": .string(error.code)])
                    user = update.applied(to: base)
                    user.installations = base?.installations
                }
            }
            if isCurrent(call.epoch) { storeUser(user, event: .userUpdated) }
            return user.wrapperJSON
        }
    }

    private func personalizeOnLane(_ context: PersonalizeContext, eventBoundary: Int) async throws -> JSONValue {
        try await withUserCall("personalize", externalUserId: context.externalUserId) { call throws(MobileMessagingError) in
            // Events submitted before this call belong to the person before it.
            if let failure = await sendCustomEvents(before: eventBoundary, own: call.own) { throw failure }
            let returned = try await userRequest("personalize", token: call.token, externalUserId: context.externalUserId) {
                (token) async throws(MobileMessagingError) in
                try await call.api.personalize(call.own, context: context, token: token)
            }
            var user: UserData
            if let returned {
                user = returned
            } else if let fetched = try? await call.api.fetchUser(call.own, token: tokens.token) {
                user = fetched
            } else {
                var identity = UserData()
                identity.externalUserId = context.externalUserId
                identity.phones = context.phones
                identity.emails = context.emails
                user = context.userAttributes?.applied(to: identity) ?? identity
            }
            if isCurrent(call.epoch) { storeUser(user, event: .personalized, always: true) }
            return user.wrapperJSON
        }
    }

    /// Returns `"success"`, or `"pending"` when the server cannot be reached (network,
    /// timeout, 5xx, 429): the local user is forgotten at once, the request is kept in
    /// the state file (behind any queued user change, which goes first) and retried in
    /// the background and before the next user call, and `depersonalized` is emitted
    /// when it completes. A queued user change waiting for a new token is deleted
    /// instead (it belongs to the person leaving), with an `authenticationError`.
    private func depersonalizeOnLane(tokenGeneration: Int, eventBoundary: Int) async throws -> JSONValue {
        let answer = try await detachPerson(eventBoundary: eventBoundary)
        // Both "success" and "pending" end the person's session here, as the plugins'
        // native bridges clear their JWT supplier on both; an error keeps everything. A
        // token set after this call was written belongs to the next person: it stays.
        let epoch = self.epoch
        if tokens.generation == tokenGeneration { tokens.set(nil) }
        if isCurrent(epoch), var installation = state.installation,
            installation.customAttributes != nil || installation.isPrimaryDevice == true
        {
            installation.customAttributes = nil
            installation.isPrimaryDevice = false
            state.installation = installation
            persist()
        }
        logger.debug("depersonalize: the user-data JWT is dropped", metadata: ["result": .string(answer.stringValue ?? "")])
        return answer
    }

    private func detachPerson(eventBoundary: Int) async throws(MobileMessagingError) -> JSONValue {
        let epoch = self.epoch
        let own = try await registeredInstallationID()
        dropTokenBlockedUserChanges(method: "depersonalize")
        // A depersonalize queued last (nothing for the next person after it) is this very request.
        let hadQueued = queue.lastUserSideKind == .depersonalize
        lastDepersonalizeRefusal = nil
        let failure = await flushQueue(epoch: epoch, kinds: [.saveUser, .depersonalize])
        guard isCurrent(epoch) else { return "pending" }
        // Delivering may have found more changes refused for their token: they go too.
        dropTokenBlockedUserChanges(method: "depersonalize")
        if let failure {
            // Already queued (and still the last user-side entry): the same request, not another.
            if queue.lastUserSideKind != .depersonalize {
                holdCustomEventsBehindQueuedDepersonalize(eventBoundary)
                try keepForRetry(.depersonalize, own: own, body: nil, after: failure)
            }
            return "pending"
        }
        if hadQueued {
            // The queued request was this one; its outcome is the answer.
            if let refusal = lastDepersonalizeRefusal { throw refusal }
            return "success"
        }
        let api = try requireAPI()
        do throws(MobileMessagingError) {
            // Events submitted before this call belong to the person leaving.
            if let failure = await sendCustomEvents(before: eventBoundary, own: own) { throw failure }
            try await api.depersonalize(own, own: own)
        } catch where error.isTransient {
            guard isCurrent(epoch) else { return "pending" }
            logger.notice("depersonalize could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            holdCustomEventsBehindQueuedDepersonalize(eventBoundary)
            try keepForRetry(.depersonalize, own: own, body: nil, after: error)
            return "pending"
        }
        if isCurrent(epoch) {
            state.user = nil
            persist()
            emit(.depersonalized, .null)
        }
        return "success"
    }

    // MARK: Shared

    /// The common path of `saveUser`, `fetchUser` and `personalize` on the lane: with the
    /// installation registered, the token checked (and, with the provider, refreshed)
    /// right before anything is sent, and queued user changes and depersonalize
    /// delivered first (so a change never overtakes an earlier one nor lands on the
    /// previous person). When the queue cannot be delivered, `whenQueueBlocked` decides
    /// (by default the call fails with that error).
    func withUserCall(
        _ method: String, externalUserId: String? = nil,
        whenQueueBlocked: ((String, MobileMessagingError) throws(MobileMessagingError) -> JSONValue)? = nil,
        _ body: (UserCall) async throws(MobileMessagingError) -> JSONValue
    ) async throws -> JSONValue {
        let epoch = self.epoch
        let own = try await registeredInstallationID()
        let token = try await tokenForCall(method, externalUserId: externalUserId ?? state.user?.externalUserId)
        if let failure = await flushQueue(epoch: epoch, kinds: [.saveUser, .depersonalize]) {
            guard let whenQueueBlocked, isCurrent(epoch) else { throw failure }
            return try whenQueueBlocked(own, failure)
        }
        let call = UserCall(own: own, token: token, api: try requireAPI(), epoch: epoch)
        return try await body(call)
    }

    /// `GET .../user` for `method`; keeps the answer as the local copy.
    func readUser(_ call: UserCall, method: String) async throws(MobileMessagingError) -> UserData {
        let user = try await userRequest(method, token: call.token, externalUserId: state.user?.externalUserId) {
            (token) async throws(MobileMessagingError) in
            try await call.api.fetchUser(call.own, token: token)
        }
        if isCurrent(call.epoch) { storeUser(user, event: .userUpdated) }
        return user
    }
}
