import JSON
import Logging

/// The one path by which a change reaches the server and the server's copy comes back:
/// send it, take the copy the server answered with, else read it back, else estimate it
/// by applying the change locally; then keep it and announce it. Direct calls and the
/// sync queue's deliveries both go through here, so they cannot drift apart.
@EngineActor
final class RecordSync {
    private let backend: Backend
    private let state: LocalState
    private let authentication: Authentication
    private let clock: WallClock
    private let logger: Logger
    /// Inbox messages known to be seen (in memory only, as in the SDKs).
    private var seenLedger = InboxSeenLedger()

    init(backend: Backend, state: LocalState, authentication: Authentication, clock: WallClock, logger: Logger) {
        self.backend = backend
        self.state = state
        self.authentication = authentication
        self.clock = clock
        self.logger = logger
    }

    /// `PATCH .../user` with `body`, with `token` (or `App`); `accepted` runs as soon as
    /// the server has taken the change. `always`: announce `userUpdated` even when the
    /// copy did not change (a queued change completing).
    func saveUser(_ body: JSONObject, own: String, token: String?, always: Bool, accepted: () -> Void) async throws(MobileMessagingError)
        -> UserData
    {
        let api = backend.api
        let base = state.user
        let returned = try await authentication.send(.saveUser, token: token, externalUserId: base?.externalUserId) {
            (token) async throws(MobileMessagingError) in
            try await api.patchUser(own, body: body, token: token)
        }
        accepted()
        let user = await adopted(returned, call: .saveUser) { () async throws(MobileMessagingError) in
            try await api.fetchUser(own, token: authentication.token)
        } estimate: {
            UserData(api: PendingChange.applying(body, to: base?.apiJSON.objectValue ?? [:]))
        }
        state.adopt(user, announcing: .userUpdated, always: always)
        return user
    }

    /// `POST .../personalize`: the person this installation now belongs to.
    func personalize(_ context: PersonalizeContext, own: String, token: String?) async throws(MobileMessagingError) -> UserData {
        let api = backend.api
        let returned = try await authentication.send(.personalize, token: token, externalUserId: context.externalUserId) {
            (token) async throws(MobileMessagingError) in
            try await api.personalize(own, context: context, token: token)
        }
        let user = await adopted(returned, call: .personalize) { () async throws(MobileMessagingError) in
            try await api.fetchUser(own, token: authentication.token)
        } estimate: {
            var identity = UserData()
            identity.externalUserId = context.externalUserId
            identity.phones = context.phones
            identity.emails = context.emails
            return context.userAttributes.map { UserData(api: PendingChange.applying($0.patchBody(base: nil), to: identity.apiFields())) }
                ?? identity
        }
        state.adopt(user, announcing: .personalized, always: true)
        return user
    }

    /// `PATCH /mobile/1/appinstance/{target}` with `body`; the copy is kept when `target`
    /// is this installation. `always`: announce `installationUpdated` even when unchanged.
    func saveInstallation(_ body: JSONObject, target: String, own: String, always: Bool, accepted: () -> Void)
        async throws(MobileMessagingError) -> Installation
    {
        let api = backend.api
        let base = target == state.ownID ? state.installation : nil
        let returned = try await api.patchInstallation(target, body: body, own: own)
        accepted()
        var saved = await adopted(returned, call: .saveInstallation) { () async throws(MobileMessagingError) in
            try await api.fetchInstallation(target)
        } estimate: {
            Installation(api: PendingChange.applying(body, to: base?.apiJSON.objectValue ?? [:]))
        }
        saved.pushRegistrationId = saved.pushRegistrationId ?? target
        if target == state.ownID { state.adopt(saved, always: always) }
        return saved
    }

    /// `POST .../depersonalize` for this installation: the local user goes, and
    /// `depersonalized` is announced.
    func depersonalize(own: String, accepted: () -> Void) async throws(MobileMessagingError) {
        try await backend.api.depersonalize(own, own: own)
        accepted()
        state.forgetUser(announce: true)
    }

    /// `POST /mobile/2/messages/seen` with `marks` (`App`); once taken, they are known seen.
    func sendSeen(_ marks: InboxSeenMarks, accepted: () -> Void) async throws(MobileMessagingError) {
        try await backend.api.sendInboxSeen(marks, now: clock.now, own: state.ownID)
        accepted()
        noteSeen(marks.messageIds, of: marks.externalUserId)
    }

    /// Ids the server said are seen (a fetch) or took marks for.
    func noteSeen(_ ids: [String], of externalUserId: String) {
        guard !state.isClosed else { return }
        seenLedger.record(ids, of: externalUserId)
    }

    /// `ids` less those known to be seen and those in `skipped`.
    func unseen(_ ids: [String], of externalUserId: String, alsoSkipping skipped: Set<String>) -> [String] {
        seenLedger.unseen(ids, of: externalUserId, alsoSkipping: skipped)
    }

    /// The server's copy: the one it answered with, else read back, else the estimate.
    private func adopted<Record>(
        _ returned: Record?, call: Call, readBack: () async throws(MobileMessagingError) -> Record, estimate: () -> Record
    ) async -> Record {
        if let returned { return returned }
        do throws(MobileMessagingError) {
            return try await readBack()
        } catch {
            logger.notice("\(call.rawValue): the server's copy could not be read back; using the local estimate", metadata: ["code": .string(error.code)])
            return estimate()
        }
    }
}
