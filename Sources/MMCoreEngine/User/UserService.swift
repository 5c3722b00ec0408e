import JSON
import Logging

/// The person on this installation: `saveUser`, `fetchUser`, `getUser`, `personalize`
/// and `depersonalize`, each as the step that runs on the lane (admission is the
/// session's).
///
/// Every call that sends runs with the installation registered, the token checked (and,
/// with the provider, refreshed) right before anything is sent, and queued user changes
/// and depersonalize delivered first, so a change never overtakes an earlier one nor
/// lands on the previous person.
@EngineActor
final class UserService {
    private let parts: CallParts

    init(_ parts: CallParts) {
        self.parts = parts
    }

    // MARK: Calls

    /// `saveUser`: sends the fields that differ from the last known server copy (a field
    /// left out stays as it is, `null` clears it) and answers the user as the server
    /// holds it afterwards. A change that cannot reach the server is kept for a retry.
    func save(_ update: RecordUpdate<UserData>) async throws(MobileMessagingError) -> JSONValue {
        try await withUserCall(
            .saveUser,
            whenQueueBlocked: { own, failure throws(MobileMessagingError) in
                // Earlier changes could not be sent: this one waits behind them, merged.
                try self.parts.delivery.keep(.saveUser, own: own, body: update.patchBody(base: nil), after: failure)
                throw failure.markedPending
            }
        ) { own, token throws(MobileMessagingError) in
            let base = parts.state.user
            let body = update.patchBody(base: base)
            if body.isEmpty {
                // Nothing to change: the copy we have is the answer, or else the server's.
                guard let base else { return try await read(own: own, token: token, call: .saveUser).wrapperJSON }
                parts.logger.debug("saveUser: nothing differs from the server copy; no request")
                return base.wrapperJSON
            }
            do throws(MobileMessagingError) {
                let user = try await parts.records.saveUser(body, own: own, token: token, always: false) {
                    // Fields set now are newer than the same fields in a change still waiting for a token.
                    if parts.state.updateQueue({ $0.supersedeTokenBlockedFields(with: body) }) { parts.state.persist() }
                }
                return user.wrapperJSON
            } catch where error.isTransient {
                guard !parts.state.isClosed else { throw error }
                parts.logger.notice("saveUser could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
                try parts.delivery.keep(.saveUser, own: own, body: body, after: error)
                throw error.markedPending
            }
        }
    }

    /// `fetchUser`: the user from the server; also refreshes the local copy.
    func fetch() async throws(MobileMessagingError) -> JSONValue {
        try await withUserCall(.fetchUser) { own, token throws(MobileMessagingError) in
            try await read(own: own, token: token, call: .fetchUser).wrapperJSON
        }
    }

    /// `getUser`: the local copy with the changes the server has not accepted yet (queued
    /// or still on the lane) applied; `{}` when there is none.
    func local() -> JSONValue {
        let queued = parts.state.queue.userBodiesForLocalRead
        // The common case, kept cheap: nothing unsent, so the server's copy is the answer.
        if queued.isEmpty && parts.admitted.isEmpty { return parts.state.user?.wrapperJSON ?? .object([:]) }
        var object = parts.state.user?.apiJSON.objectValue
        for body in queued { object = PendingChange.applying(body, to: object ?? [:]) }
        object = parts.admitted.applyingUserChanges(to: object)
        return object.map { UserData(api: $0).wrapperJSON } ?? .object([:])
    }

    /// `personalize`: makes this installation belong to the person identified by
    /// `context.userIdentity`, sets `userAttributes`, and answers the person; emits
    /// `personalized`.
    /// Events submitted before it (in front of `eventBoundary`) are sent first: they
    /// belong to the person before it.
    func personalize(_ context: PersonalizeContext, eventBoundary: Int) async throws(MobileMessagingError) -> JSONValue {
        try await withUserCall(.personalize, externalUserId: context.externalUserId) { own, token throws(MobileMessagingError) in
            if let failure = await parts.events.send(before: eventBoundary, own: own) { throw failure }
            return try await parts.records.personalize(context, own: own, token: token).wrapperJSON
        }
    }

    /// `depersonalize`: `"success"`, or `"pending"` when the server cannot be reached
    /// (network, timeout, 5xx, 429): the local user is forgotten at once, the request is
    /// kept in the parts.state file (behind any queued user change, which goes first) and
    /// retried in the background and before the next user call, and `depersonalized` is
    /// emitted when it completes. Both end the person's session here, as the plugins'
    /// native bridges clear their JWT supplier on both; an error keeps everything. A
    /// token set after the call was parts.admitted (`tokenGeneration`) belongs to the next
    /// person: it stays. Events submitted before it (in front of `eventBoundary`) are
    /// sent first, or, when it is kept for a retry, before the queued request.
    func depersonalize(tokenGeneration: Int, eventBoundary: Int) async throws(MobileMessagingError) -> JSONValue {
        let answer = try await detachPerson(eventBoundary: eventBoundary)
        parts.authentication.drop(ifStill: tokenGeneration)
        parts.state.clearPersonalInstallationFields()
        parts.logger.debug("depersonalize: the user-data JWT is dropped", metadata: ["result": .string(answer.stringValue ?? "")])
        return answer
    }

    // MARK: Steps

    private func detachPerson(eventBoundary: Int) async throws(MobileMessagingError) -> JSONValue {
        let own = try await parts.registration.installationID()
        // A queued user change waiting for a new token is deleted instead (it belongs to
        // the person leaving), with an `authenticationError`.
        parts.delivery.dropTokenBlocked(method: .depersonalize)
        // A depersonalize queued last (nothing for the next person after it) is this very request.
        let hadQueued = parts.state.queue.lastUserSideKind == .depersonalize
        let outcome = await parts.delivery.flush([.saveUser, .depersonalize])
        guard !parts.state.isClosed else { return "pending" }
        // Delivering may have found more changes refused for their token: they go too.
        parts.delivery.dropTokenBlocked(method: .depersonalize)
        if let failure = outcome.failure {
            // Already queued (and still the last user-side entry): the same request, not another.
            if parts.state.queue.lastUserSideKind != .depersonalize {
                parts.events.holdBehindQueuedDepersonalize(eventBoundary)
                try parts.delivery.keep(.depersonalize, own: own, body: nil, after: failure)
            }
            return "pending"
        }
        if hadQueued {
            // The queued request was this one; its outcome is the answer.
            if let refusal = outcome.depersonalizeRefusal { throw refusal }
            return "success"
        }
        do throws(MobileMessagingError) {
            // Events submitted before this call belong to the person leaving.
            if let failure = await parts.events.send(before: eventBoundary, own: own) { throw failure }
            try await parts.records.depersonalize(own: own) {}
        } catch where error.isTransient {
            guard !parts.state.isClosed else { return "pending" }
            parts.logger.notice("depersonalize could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            parts.events.holdBehindQueuedDepersonalize(eventBoundary)
            try parts.delivery.keep(.depersonalize, own: own, body: nil, after: error)
            return "pending"
        }
        return "success"
    }

    /// The common path of `saveUser`, `fetchUser` and `personalize` (see the type).
    /// When the queue cannot be delivered, `whenQueueBlocked` decides (by default the
    /// call fails with that error).
    private func withUserCall(
        _ call: Call, externalUserId: String? = nil,
        whenQueueBlocked: ((String, MobileMessagingError) throws(MobileMessagingError) -> JSONValue)? = nil,
        _ body: (_ own: String, _ token: String?) async throws(MobileMessagingError) -> JSONValue
    ) async throws(MobileMessagingError) -> JSONValue {
        let own = try await parts.registration.installationID()
        let token = try await parts.authentication.tokenForCall(externalUserId: externalUserId ?? parts.state.user?.externalUserId)
        if let failure = await parts.delivery.flush([.saveUser, .depersonalize]).failure {
            guard let whenQueueBlocked, !parts.state.isClosed else { throw failure }
            return try whenQueueBlocked(own, failure)
        }
        return try await body(own, token)
    }

    /// `GET .../user` for `method`; keeps the answer as the local copy.
    private func read(own: String, token: String?, call: Call) async throws(MobileMessagingError) -> UserData {
        let api = parts.backend.api
        let user = try await parts.authentication.send(call, token: token, externalUserId: parts.state.user?.externalUserId) {
            (token) async throws(MobileMessagingError) in
            try await api.fetchUser(own, token: token)
        }
        parts.state.adopt(user, announcing: .userUpdated)
        return user
    }
}
