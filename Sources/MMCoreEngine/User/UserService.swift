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
    private let backend: Backend
    private let state: LocalState
    private let authentication: Authentication
    private let registration: Registration
    private let delivery: SyncDelivery
    private let records: RecordSync
    private let admitted: LocalChanges
    private let logger: Logger

    init(
        backend: Backend, state: LocalState, authentication: Authentication, registration: Registration, delivery: SyncDelivery,
        records: RecordSync, admitted: LocalChanges, logger: Logger
    ) {
        self.backend = backend
        self.state = state
        self.authentication = authentication
        self.registration = registration
        self.delivery = delivery
        self.records = records
        self.admitted = admitted
        self.logger = logger
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
                try self.delivery.keep(.saveUser, own: own, body: update.patchBody(base: nil), after: failure)
                throw failure.markedPending
            }
        ) { own, token throws(MobileMessagingError) in
            let base = state.user
            let body = update.patchBody(base: base)
            if body.isEmpty {
                // Nothing to change: the copy we have is the answer, or else the server's.
                guard let base else { return try await read(own: own, token: token, call: .saveUser).wrapperJSON }
                logger.debug("saveUser: nothing differs from the server copy; no request")
                return base.wrapperJSON
            }
            do throws(MobileMessagingError) {
                let user = try await records.saveUser(body, own: own, token: token, always: false) {
                    // Fields set now are newer than the same fields in a change still waiting for a token.
                    if state.updateQueue({ $0.supersedeTokenBlockedFields(with: body) }) { state.persist() }
                }
                return user.wrapperJSON
            } catch where error.isTransient {
                guard !state.isClosed else { throw error }
                logger.notice("saveUser could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
                try delivery.keep(.saveUser, own: own, body: body, after: error)
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
        let queued = state.queue.userBodiesForLocalRead
        // The common case, kept cheap: nothing unsent, so the server's copy is the answer.
        if queued.isEmpty && admitted.isEmpty { return state.user?.wrapperJSON ?? .object([:]) }
        var object = state.user?.apiJSON.objectValue
        for body in queued { object = PendingChange.applying(body, to: object ?? [:]) }
        object = admitted.applyingUserChanges(to: object)
        return object.map { UserData(api: $0).wrapperJSON } ?? .object([:])
    }

    /// `personalize`: makes this installation belong to the person identified by
    /// `context.userIdentity`, sets `userAttributes`, and answers the person; emits
    /// `personalized`.
    func personalize(_ context: PersonalizeContext) async throws(MobileMessagingError) -> JSONValue {
        try await withUserCall(.personalize, externalUserId: context.externalUserId) { own, token throws(MobileMessagingError) in
            try await records.personalize(context, own: own, token: token).wrapperJSON
        }
    }

    /// `depersonalize`: `"success"`, or `"pending"` when the server cannot be reached
    /// (network, timeout, 5xx, 429): the local user is forgotten at once, the request is
    /// kept in the state file (behind any queued user change, which goes first) and
    /// retried in the background and before the next user call, and `depersonalized` is
    /// emitted when it completes. Both end the person's session here, as the plugins'
    /// native bridges clear their JWT supplier on both; an error keeps everything. A
    /// token set after the call was admitted (`tokenGeneration`) belongs to the next
    /// person: it stays.
    func depersonalize(tokenGeneration: Int) async throws(MobileMessagingError) -> JSONValue {
        let answer = try await detachPerson()
        authentication.drop(ifStill: tokenGeneration)
        state.clearPersonalInstallationFields()
        logger.debug("depersonalize: the user-data JWT is dropped", metadata: ["result": .string(answer.stringValue ?? "")])
        return answer
    }

    // MARK: Steps

    private func detachPerson() async throws(MobileMessagingError) -> JSONValue {
        let own = try await registration.installationID()
        // A queued user change waiting for a new token is deleted instead (it belongs to
        // the person leaving), with an `authenticationError`.
        delivery.dropTokenBlocked(method: .depersonalize)
        // A depersonalize queued last (nothing for the next person after it) is this very request.
        let hadQueued = state.queue.lastUserSideKind == .depersonalize
        let outcome = await delivery.flush([.saveUser, .depersonalize])
        guard !state.isClosed else { return "pending" }
        // Delivering may have found more changes refused for their token: they go too.
        delivery.dropTokenBlocked(method: .depersonalize)
        if let failure = outcome.failure {
            // Already queued (and still the last user-side entry): the same request, not another.
            if state.queue.lastUserSideKind != .depersonalize {
                try delivery.keep(.depersonalize, own: own, body: nil, after: failure)
            }
            return "pending"
        }
        if hadQueued {
            // The queued request was this one; its outcome is the answer.
            if let refusal = outcome.depersonalizeRefusal { throw refusal }
            return "success"
        }
        do throws(MobileMessagingError) {
            try await records.depersonalize(own: own) {}
        } catch where error.isTransient {
            guard !state.isClosed else { return "pending" }
            logger.notice("depersonalize could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
            try delivery.keep(.depersonalize, own: own, body: nil, after: error)
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
        let own = try await registration.installationID()
        let token = try await authentication.tokenForCall(externalUserId: externalUserId ?? state.user?.externalUserId)
        if let failure = await delivery.flush([.saveUser, .depersonalize]).failure {
            guard let whenQueueBlocked, !state.isClosed else { throw failure }
            return try whenQueueBlocked(own, failure)
        }
        return try await body(own, token)
    }

    /// `GET .../user` for `method`; keeps the answer as the local copy.
    private func read(own: String, token: String?, call: Call) async throws(MobileMessagingError) -> UserData {
        let api = backend.api
        let user = try await authentication.send(call, token: token, externalUserId: state.user?.externalUserId) {
            (token) async throws(MobileMessagingError) in
            try await api.fetchUser(own, token: token)
        }
        state.adopt(user, announcing: .userUpdated)
        return user
    }
}
