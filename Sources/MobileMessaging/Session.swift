import JSON
import Logging
import UserDataJWT

/// The SDK core: one method per bridge method, in the wrappers' shapes.
///
/// Parameters arrive as the `JSONValue`s the wrapper sent and results leave as
/// `JSONValue`s in the wrappers' shape, so the executable forwards them without
/// knowing any field. Every method throws only ``MobileMessagingError`` (answer with
/// its `numericCode` and `data`) or ``InvalidParameter`` (answer with -32602); events
/// go to the injected ``EventSink``. Nothing here knows about stdio.
///
/// Network operations run one at a time, in call order, so that each PATCH is
/// computed against the copy the previous one left; `get*` calls read the local copy
/// at once. State is written after every change (see ``StateStore``); the JWT lives
/// in memory only. Changes that cannot reach the server wait in the durable sync queue
/// (`pendingChanges`), and the auth-failure rules and the token provider are described
/// in `docs/reliability.md`.
public actor Session {
    // MARK: Injected

    private let stateDirectory: String
    private let transport: any HTTPTransport
    private let events: any EventSink
    private var logger: Logger
    private let clock: WallClock
    /// Held for the opt-in pull model (`userDataJwtProvider`); see ``TokenProvider``.
    private let tokenProvider: (any TokenProvider)?
    /// The policy given at creation; the configuration may shorten it (`retryBaseDelaySeconds`).
    private let defaultRetryPolicy: RetryPolicy

    // MARK: State

    private var configuration: Configuration?
    private var api: MobileAPIClient?
    private var store: StateStore?
    private var stateLoaded = false
    private var state = PersistedState()
    /// The user-data JWT, never persisted and never logged.
    private var token: String?
    /// Bumped when the state is wiped (`cleanup`, a new application code): work that
    /// started before must not write its result into the new state.
    private var epoch = 0

    private var registrationTask: Task<Void, Never>?
    private var registrationRetryTask: Task<Void, Never>?
    private var registrationFailures = 0
    private var registrationWaiters: [Int: RegistrationWaiter] = [:]
    private var nextWaiterID = 0

    private var pendingRetryTask: Task<Void, Never>?
    private var pendingFailures = 0
    private var retryPolicy: RetryPolicy
    /// The last transient failure of the queue, answered while `Retry-After` holds.
    private var lastQueueError: MobileMessagingError?
    /// Nothing queued is sent before this (the server's `Retry-After`); monotonic, so an
    /// injected wall clock cannot park it.
    private var retryAfterDeadline: ContinuousClock.Instant?
    /// A queued depersonalize the server refused while the queue was delivered.
    private var lastDepersonalizeRefusal: MobileMessagingError?

    // MARK: Authentication failures (in memory: a new process starts afresh)

    /// Queued `saveUser` changes refused for an auth reason; not retried before a new token.
    private var awaitingToken: Set<String> = []
    /// Why the last queued change was refused for its token (the code of the
    /// `authenticationError` when depersonalize deletes such changes).
    private var lastTokenRefusal: MobileMessagingError?
    private var consecutiveAuthFailures = 0
    /// Set after ``authenticationFailureLimit`` consecutive failures; JWT calls then fail
    /// fast with `AUTHENTICATION_PAUSED` until a new token or the next process.
    private var authenticationPaused = false
    static let authenticationFailureLimit = 10

    // MARK: Token provider

    private var providerRunning = false
    private var providerRound = 0
    private var providerWaiters: [CheckedContinuation<String?, Never>] = []
    private var providerTimer: Task<Void, Never>?

    private var operationRunning = false
    private var operationQueue: [CheckedContinuation<Void, Never>] = []

    private struct RegistrationWaiter {
        let continuation: CheckedContinuation<Result<String, MobileMessagingError>, Never>
        let timer: Task<Void, Never>
    }

    /// - Parameters:
    ///   - stateDirectory: where state lives; created (0700) and locked at the first `init`.
    ///   - transport: HTTP; the default creates its client on the first request only.
    ///   - events: receives every event, in order.
    ///   - clock: the time used for the client-side JWT expiry check.
    ///   - tokenProvider: asked for fresh tokens when `userDataJwtProvider` is on.
    ///   - retryPolicy: delays of background retries (registration, the sync queue); the
    ///     configuration's `retryBaseDelaySeconds` / `retryMaxDelaySeconds` override it.
    public init(
        stateDirectory: String, transport: any HTTPTransport = AsyncHTTPClientTransport(), events: any EventSink,
        logger: Logger = Logger(label: "mobile-messaging"), clock: WallClock = .system,
        tokenProvider: (any TokenProvider)? = nil, retryPolicy: RetryPolicy = .standard
    ) {
        self.stateDirectory = stateDirectory
        self.transport = transport
        self.events = events
        self.logger = logger
        self.clock = clock
        self.tokenProvider = tokenProvider
        self.defaultRetryPolicy = retryPolicy
        self.retryPolicy = retryPolicy
    }

    // MARK: - init, setUserDataJwt, cleanup

    /// `init`: accepts the configuration and loads the state, then returns; the first
    /// registration (when there is no pushRegistrationId yet) runs in the background
    /// and ends with a `registrationUpdated` event. Nothing touches the network before
    /// this returns.
    ///
    /// A different `applicationCode` than the stored one wipes the old state. May be
    /// called again (e.g. after `STATE_CORRUPTED`, which leaves the session
    /// uninitialized with the bad file moved aside, so the next `init` starts clean).
    ///
    /// - Throws: `INVALID_CONFIGURATION`, `STATE_LOCKED`, `STATE_CORRUPTED`, `STATE_UNAVAILABLE`.
    public func initialize(_ configuration: JSONValue) throws {
        let configuration = try Configuration(json: configuration)
        if store == nil {
            store = try StateStore(directory: stateDirectory)
        }
        if !stateLoaded, let store {
            state = try store.load(now: clock.now)
            stateLoaded = true
        }

        var changed = false
        if let previous = state.applicationCode, previous != configuration.applicationCode {
            logger.notice("a new applicationCode: the previous application's state is wiped")
            wipe(keeping: configuration.applicationCode)
            changed = true
        } else if state.applicationCode == nil {
            state.applicationCode = configuration.applicationCode
            changed = true
        }
        if configuration.userDataPersistingDisabled && state.user != nil {
            changed = true  // a user written before the setting was turned on must leave the file
        }

        // Written before the session counts as initialized, so a failure leaves it uninitialized.
        if changed, let store {
            try store.save(state, includeUser: !configuration.userDataPersistingDisabled)
        }
        if configuration.loggingEnabled && logger.logLevel > .debug { logger.logLevel = .debug }
        self.configuration = configuration
        retryPolicy = configuration.retryPolicy(fallback: defaultRetryPolicy)
        api = MobileAPIClient(configuration: configuration, transport: transport)
        let previousToken = token
        token = Self.normalizedToken(configuration.userDataJwt)
        if let token, token != previousToken { newTokenArrived() }

        logger.debug(
            "initialized",
            metadata: [
                "backend": .string(configuration.backendBaseURL),
                "registered": .stringConvertible(state.installation?.pushRegistrationId != nil),
                "token": .string(token.map(Redaction.summary(of:)) ?? "none"),
            ])
        startRegistrationIfNeeded()
        schedulePendingWork(after: .zero)
    }

    /// `setUserDataJwt`: sets the token for `saveUser`, `fetchUser` and `personalize`.
    /// `null`, `""` or a blank string clears it. Not validated here but when used, as
    /// the wrappers do, so the error reaches the call that needed the token.
    public func setUserDataJwt(_ jwt: JSONValue) throws {
        _ = try requireConfiguration()
        let previous = token
        switch jwt {
        case .null: token = nil
        case .string(let text): token = Self.normalizedToken(text)
        default: throw InvalidParameter(field: "jwt", reason: "must be a string or null, got \(jwt.typeName)")
        }
        if let token, token != previous { newTokenArrived() }
        logger.debug("userDataJwt set", metadata: ["token": .string(token.map(Redaction.summary(of:)) ?? "none")])
    }

    /// `cleanup`: forgets the installation, the user, the token and all pending work,
    /// locally (nothing is sent). The session stays initialized; the next call that
    /// needs an installation registers a new one.
    public func cleanup() throws {
        let configuration = try requireConfiguration()
        wipe(keeping: configuration.applicationCode)
        token = nil
        try persistOrThrow()
        logger.debug("cleaned up")
    }

    /// Stops background work (registration, retries) and releases the state lock; for
    /// the executable's shutdown. Every change is already on disk when it is made.
    public func shutdown() {
        stopBackgroundWork(reason: "The session was shut down.")
        epoch += 1
        configuration = nil
        api = nil
        store = nil
        stateLoaded = false
    }

    // MARK: - User

    /// `saveUser`: sends the fields that differ from the last known server copy (a
    /// field left out stays as it is, `null` clears it) and returns the user as the
    /// server holds it afterwards. Uses `Bearer` when a token is set.
    ///
    /// - Throws: `InvalidParameter` for malformed user data; `JWT_TOKEN_*` without
    ///   sending anything; the server's code; `NETWORK_ERROR`, `TIMEOUT`, `NO_REGISTRATION`.
    public func saveUser(_ userData: JSONValue) async throws -> JSONValue {
        _ = try requireConfiguration()
        let update = try UserData.update(from: userData)
        try preflightJWTCall()
        return try await withUserCall(
            "saveUser",
            whenQueueBlocked: { own, failure throws(MobileMessagingError) in
                // Earlier changes could not be sent: this one waits behind them, merged.
                try self.enqueue(.saveUser, own: own, body: update.patchBody(base: nil), after: failure)
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
                try enqueue(.saveUser, own: call.own, body: body, after: error)
                throw error.markedPending
            }
            if isCurrent(call.epoch) { supersedeTokenBlockedFields(body) }
            var user: UserData
            if let returned {
                user = returned
            } else {
                do throws(MobileMessagingError) {
                    user = try await call.api.fetchUser(call.own, token: token)
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

    /// `fetchUser`: the user from the server; also refreshes the local copy.
    /// Uses `Bearer` when a token is set.
    public func fetchUser() async throws -> JSONValue {
        _ = try requireConfiguration()
        try preflightJWTCall()
        return try await withUserCall("fetchUser") { call throws(MobileMessagingError) in
            try await readUser(call, method: "fetchUser").wrapperJSON
        }
    }

    /// `getUser`: the local copy, no network; `null` when there is none.
    public func getUser() throws -> JSONValue {
        _ = try requireConfiguration()
        return state.user?.wrapperJSON ?? .null
    }

    /// `personalize`: makes this installation belong to the person identified by
    /// `context.userIdentity`, sets `userAttributes`, and returns the person; emits
    /// `personalized`. Uses `Bearer` when a token is set.
    public func personalize(_ context: JSONValue) async throws -> JSONValue {
        _ = try requireConfiguration()
        let context = try PersonalizeContext(wrapper: context)
        try preflightJWTCall()
        return try await withUserCall("personalize", externalUserId: context.externalUserId) { call throws(MobileMessagingError) in
            let returned = try await userRequest("personalize", token: call.token, externalUserId: context.externalUserId) {
                (token) async throws(MobileMessagingError) in
                try await call.api.personalize(call.own, context: context, token: token)
            }
            var user: UserData
            if let returned {
                user = returned
            } else if let fetched = try? await call.api.fetchUser(call.own, token: token) {
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

    /// What a JWT call works with once it may send: this installation's id, the token
    /// (checked just now; `nil` means `App`), the client, and the epoch it started in.
    private struct UserCall {
        let own: String
        let token: String?
        let api: MobileAPIClient
        let epoch: Int
    }

    /// The common path of `saveUser`, `fetchUser` and `personalize`: after the network
    /// calls made before it, with the installation registered, the token checked (and,
    /// with the provider, refreshed) right before anything is sent, and queued user
    /// changes and depersonalize delivered first (so a change never overtakes an earlier
    /// one nor lands on the previous person). When the queue cannot be delivered,
    /// `whenQueueBlocked` decides (by default the call fails with that error).
    private func withUserCall(
        _ method: String, externalUserId: String? = nil,
        whenQueueBlocked: ((String, MobileMessagingError) throws(MobileMessagingError) -> JSONValue)? = nil,
        _ body: (UserCall) async throws(MobileMessagingError) -> JSONValue
    ) async throws -> JSONValue {
        try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            let token = try await tokenForCall(method, externalUserId: externalUserId ?? state.user?.externalUserId)
            if let failure = await flushQueue(epoch: epoch, kinds: [.saveUser, .depersonalize]) {
                guard let whenQueueBlocked, isCurrent(epoch) else { throw failure }
                return try whenQueueBlocked(own, failure)
            }
            let call = UserCall(own: own, token: token, api: try requireAPI(), epoch: epoch)
            return try await body(call)
        }
    }

    /// `GET .../user` for `method`; keeps the answer as the local copy.
    private func readUser(_ call: UserCall, method: String) async throws(MobileMessagingError) -> UserData {
        let user = try await userRequest(method, token: call.token, externalUserId: state.user?.externalUserId) {
            (token) async throws(MobileMessagingError) in
            try await call.api.fetchUser(call.own, token: token)
        }
        if isCurrent(call.epoch) { storeUser(user, event: .userUpdated) }
        return user
    }

    /// `depersonalize`: detaches the person from this installation (always with `App`).
    /// Returns `"success"`, or `"pending"` when the server cannot be reached (network,
    /// timeout, 5xx, 429): the local user is forgotten at once, the request is kept in
    /// the state file (behind any queued user change, which goes first) and retried in
    /// the background and before the next user call, and `depersonalized` is emitted
    /// when it completes. A queued user change waiting for a new token is deleted
    /// instead (it belongs to the person leaving), with an `authenticationError`.
    public func depersonalize() async throws -> JSONValue {
        _ = try requireConfiguration()
        return try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            dropTokenBlockedUserChanges(method: "depersonalize")
            // A depersonalize queued last (nothing for the next person after it) is this very request.
            let hadQueued = state.pendingChanges.last { $0.kind != .saveInstallation }?.kind == .depersonalize
            lastDepersonalizeRefusal = nil
            let failure = await flushQueue(epoch: epoch, kinds: [.saveUser, .depersonalize])
            guard isCurrent(epoch) else { return "pending" }
            // Delivering may have found more changes refused for their token: they go too.
            dropTokenBlockedUserChanges(method: "depersonalize")
            if let failure {
                // Already queued (and still the last user-side entry): the same request, not another.
                let lastUserSide = state.pendingChanges.last { $0.kind != .saveInstallation }
                if lastUserSide?.kind != .depersonalize {
                    try enqueue(.depersonalize, own: own, body: nil, after: failure)
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
                try await api.depersonalize(own, own: own)
            } catch where error.isTransient {
                guard isCurrent(epoch) else { return "pending" }
                logger.notice("depersonalize could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
                try enqueue(.depersonalize, own: own, body: nil, after: error)
                return "pending"
            }
            if isCurrent(epoch) {
                state.user = nil
                persist()
                emit(.depersonalized, .null)
            }
            return "success"
        }
    }

    // MARK: - Installation

    /// `saveInstallation`: sends the fields that differ from the server copy and
    /// returns the installation afterwards; emits `installationUpdated` when it changed.
    public func saveInstallation(_ installation: JSONValue) async throws -> JSONValue {
        _ = try requireConfiguration()
        let update = try Installation.update(from: installation)
        return try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            if let failure = await flushQueue(epoch: epoch, kinds: [.saveInstallation]) {
                guard isCurrent(epoch) else { throw failure }
                try enqueue(.saveInstallation, own: own, body: update.patchBody(base: nil), after: failure)
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
                try enqueue(.saveInstallation, own: own, body: body, after: error)
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
    }

    /// `fetchInstallation`: this installation from the server; refreshes the local copy.
    public func fetchInstallation() async throws -> JSONValue {
        _ = try requireConfiguration()
        return try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            var installation = try await requireAPI().fetchInstallation(own)
            installation.pushRegistrationId = installation.pushRegistrationId ?? own
            if isCurrent(epoch) { storeInstallation(installation) }
            return installation.wrapperJSON
        }
    }

    /// `getInstallation`: the local copy, no network; `null` before the first registration.
    public func getInstallation() throws -> JSONValue {
        _ = try requireConfiguration()
        return state.installation?.wrapperJSON ?? .null
    }

    /// `setInstallationAsPrimary`: marks one of the person's installations (this or
    /// another) as primary or not, then returns the person's installations.
    public func setInstallationAsPrimary(pushRegistrationId: JSONValue, primary: JSONValue) async throws -> JSONValue {
        _ = try requireConfiguration()
        let target = try Self.requiredID(pushRegistrationId)
        guard case .bool(let isPrimary) = primary else {
            throw InvalidParameter(field: "primary", reason: "must be a boolean, got \(primary.typeName)")
        }
        return try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            let api = try requireAPI()
            let returned = try await api.patchInstallation(target, body: ["isPrimary": .bool(isPrimary)], own: own)
            if target == own, isCurrent(epoch), var installation = returned ?? state.installation {
                installation.isPrimaryDevice = isPrimary
                installation.pushRegistrationId = own
                storeInstallation(installation)
            }
            return await installationsAfterChange(own: own, epoch: epoch) { installations in
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
    /// installations, then returns the person's installations. For this installation,
    /// use `depersonalize`.
    public func depersonalizeInstallation(pushRegistrationId: JSONValue) async throws -> JSONValue {
        _ = try requireConfiguration()
        let target = try Self.requiredID(pushRegistrationId)
        return try await withOperation { epoch async throws in
            let own = try await registeredInstallationID()
            guard target != own else {
                throw InvalidParameter(
                    field: "pushRegistrationId", reason: "is this installation's own id; use depersonalize for this installation")
            }
            try await requireAPI().depersonalize(target, own: own)
            return await installationsAfterChange(own: own, epoch: epoch) { installations in
                installations.filter { $0.pushRegistrationId != target }
            }
        }
    }

    // MARK: - Registration

    /// Starts registering this installation unless it has an id or a registration runs.
    private func startRegistrationIfNeeded() {
        guard state.installation?.pushRegistrationId == nil, registrationTask == nil, let api else { return }
        registrationRetryTask?.cancel()
        registrationRetryTask = nil
        let epoch = self.epoch
        var installation = Installation()
        installation.os = Self.platformName
        installation.sdkVersion = CoreVersion.current
        installation.isPushRegistrationEnabled = true
        logger.debug("registering the installation")
        registrationTask = Task {
            let result: Result<Installation, MobileMessagingError>
            do throws(MobileMessagingError) {
                result = .success(try await api.registerInstallation(installation))
            } catch {
                result = .failure(error)
            }
            self.finishRegistration(result, epoch: epoch)
        }
    }

    private func finishRegistration(_ result: Result<Installation, MobileMessagingError>, epoch: Int) {
        guard isCurrent(epoch) else { return }
        registrationTask = nil
        switch result {
        case .success(let installation):
            registrationFailures = 0
            state.installation = installation
            persist()
            let id = installation.pushRegistrationId ?? ""
            logger.debug("registered", metadata: ["pushRegistrationId": .string(id)])
            emit(.registrationUpdated, .string(id))
            resumeRegistrationWaiters(.success(id))
            schedulePendingWork(after: .zero)
        case .failure(let error):
            registrationFailures += 1
            logger.warning("registration failed", metadata: ["code": .string(error.code), "description": .string(error.description)])
            resumeRegistrationWaiters(.failure(error))
            // A transient failure is retried in the background; any other one (e.g. an
            // unknown application code) only when a call needs the registration again.
            guard error.isTransient else { return }
            let delay = retryPolicy.delay(afterFailures: registrationFailures)
            registrationRetryTask = Task {
                try? await Task.sleep(for: delay)
                guard !Task.isCancelled, self.isCurrent(epoch) else { return }
                self.registrationRetryTask = nil
                self.startRegistrationIfNeeded()
            }
        }
    }

    /// This installation's pushRegistrationId, waiting for the registration (started
    /// now if none runs) at most the request timeout.
    ///
    /// - Throws: the registration's error, or `NO_REGISTRATION` when it did not finish in time.
    private func registeredInstallationID() async throws(MobileMessagingError) -> String {
        if let id = state.installation?.pushRegistrationId { return id }
        let timeout = try requireConfiguration().requestTimeoutSeconds
        startRegistrationIfNeeded()
        let id = nextWaiterID
        nextWaiterID += 1
        // The timer cannot fire before the continuation is stored: both run on this actor.
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
            guard !Task.isCancelled else { return }
            self.expireRegistrationWaiter(id, timeout: timeout)
        }
        let result = await withCheckedContinuation { continuation in
            registrationWaiters[id] = RegistrationWaiter(continuation: continuation, timer: timer)
        }
        return try result.get()
    }

    private func expireRegistrationWaiter(_ id: Int, timeout: Double) {
        guard let waiter = registrationWaiters.removeValue(forKey: id) else { return }
        waiter.continuation.resume(
            returning: .failure(
                .noRegistration(
                    "This installation is not registered yet: the registration did not finish within \(formatSeconds(timeout)) seconds.")))
    }

    private func resumeRegistrationWaiters(_ result: Result<String, MobileMessagingError>) {
        let waiters = registrationWaiters.values
        registrationWaiters.removeAll()
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume(returning: result)
        }
    }

    // MARK: - Sync queue

    /// Keeps a change that could not be sent, durably, before the caller is answered:
    /// merged into the last queued change of the same kind for this installation when
    /// nothing separates them (last write per field wins), else appended. If the state
    /// cannot be written the change is not kept and `failure` is thrown as is (not pending).
    private func enqueue(_ kind: PendingChange.Kind, own: String, body: JSONObject?, after failure: MobileMessagingError)
        throws(MobileMessagingError)
    {
        let previous = state
        let now = clock.now
        let delay = retryPolicy.jitteredDelay(afterFailures: 1, retryAfter: failure.retryAfterSeconds)
        if let body, let index = mergeTarget(kind, own: own),
            let merged = PendingChange.mergedBody(state.pendingChanges[index].body ?? JSONObject(), body)
        {
            state.pendingChanges[index].body = merged
        } else {
            state.pendingChanges.append(
                PendingChange(
                    id: nextPendingID(), kind: kind, pushRegistrationId: own, body: body, createdAt: now, attempts: 1,
                    nextAttemptAt: now + delay.seconds))
        }
        if kind == .depersonalize { state.user = nil }
        do throws(MobileMessagingError) {
            try persistOrThrow()
        } catch {
            state = previous
            logger.error("a change could not be kept for a retry", metadata: ["description": .string(error.description)])
            throw failure
        }
        noteTransientFailure(failure)
        pendingFailures = max(pendingFailures, 1)
        schedulePendingWork(after: delay)
    }

    /// The entry a new change of `kind` merges into: the last of its kind for `own`, unless
    /// a depersonalize was queued after it (a user change must not cross a person).
    private func mergeTarget(_ kind: PendingChange.Kind, own: String) -> Int? {
        switch kind {
        case .depersonalize:
            return nil
        case .saveInstallation:
            return state.pendingChanges.lastIndex { $0.kind == .saveInstallation && $0.pushRegistrationId == own }
        case .saveUser:
            guard let index = state.pendingChanges.lastIndex(where: { $0.kind != .saveInstallation }),
                state.pendingChanges[index].kind == .saveUser, state.pendingChanges[index].pushRegistrationId == own
            else { return nil }
            return index
        }
    }

    private func noteTransientFailure(_ failure: MobileMessagingError) {
        lastQueueError = failure
        if let seconds = failure.retryAfterSeconds, seconds > 0 {
            retryAfterDeadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        }
    }

    private enum Delivery {
        case delivered
        /// Try again later, unchanged.
        case transient(MobileMessagingError)
        /// A `saveUser` refused for its token: waits for a new one.
        case tokenRefused(MobileMessagingError)
        /// Refused for good (validation...): dropped.
        case refused(MobileMessagingError)
    }

    /// Delivers queued changes of `kinds`, oldest first, until one fails transiently
    /// (returned; it and everything after it stay queued) or none is left. A `saveUser`
    /// waiting for a token is skipped (or deleted when a depersonalize follows it); a
    /// refused change is dropped. Honours `Retry-After`: nothing is sent before it.
    private func flushQueue(epoch: Int, kinds: Set<PendingChange.Kind>) async -> MobileMessagingError? {
        var skipped: Set<String> = []
        while isCurrent(epoch) {
            guard let change = state.pendingChanges.first(where: { kinds.contains($0.kind) && !skipped.contains($0.id) }) else {
                return nil
            }
            if change.kind == .saveUser && (awaitingToken.contains(change.id) || authenticationPaused) {
                if !dropIfDepersonalizeFollows(change) { skipped.insert(change.id) }
                continue
            }
            if let deadline = retryAfterDeadline, ContinuousClock.now < deadline, let lastQueueError {
                return lastQueueError
            }
            let outcome = await deliver(change, epoch: epoch)
            guard isCurrent(epoch) else { return nil }
            switch outcome {
            case .delivered:
                pendingFailures = 0
                retryAfterDeadline = nil
            case .transient(let error):
                if let index = state.pendingChanges.firstIndex(where: { $0.id == change.id }) {
                    state.pendingChanges[index].attempts += 1
                    let attempts = state.pendingChanges[index].attempts
                    state.pendingChanges[index].nextAttemptAt =
                        clock.now + retryPolicy.jitteredDelay(afterFailures: attempts, retryAfter: error.retryAfterSeconds).seconds
                    // Not written now (advisory; a restart retries at once anyway): no fsync per
                    // failed attempt. The next state write carries it.
                }
                noteTransientFailure(error)
                logger.debug("a queued change is still pending", metadata: ["kind": .string(change.kind.rawValue), "code": .string(error.code)])
                return error
            case .tokenRefused(let error):
                logger.notice(
                    "a queued saveUser was refused for its token; kept until a new token arrives",
                    metadata: ["code": .string(error.code)])
                awaitingToken.insert(change.id)
                lastTokenRefusal = error
            case .refused(let error):
                logger.error(
                    "a queued change was refused and is dropped",
                    metadata: [
                        "kind": .string(change.kind.rawValue), "code": .string(error.code), "description": .string(error.description),
                    ])
                state.pendingChanges.removeAll { $0.id == change.id }
                persist()
                if change.kind == .depersonalize { lastDepersonalizeRefusal = error }
            }
        }
        return nil
    }

    /// Sends one queued change; on success removes it, keeps the server's answer and
    /// emits the event of its kind, in one state write.
    private func deliver(_ change: PendingChange, epoch: Int) async -> Delivery {
        guard let api else { return .transient(.notInitialized) }
        let id = change.pushRegistrationId
        let body = change.body ?? JSONObject()
        do throws(MobileMessagingError) {
            switch change.kind {
            case .depersonalize:
                try await api.depersonalize(id, own: id)
                guard isCurrent(epoch) else { return .delivered }
                state.pendingChanges.removeAll { $0.id == change.id }
                persist()
                logger.debug("a queued depersonalize completed")
                emit(.depersonalized, .null)
            case .saveInstallation:
                let returned = try await api.patchInstallation(id, body: body, own: id)
                guard isCurrent(epoch) else { return .delivered }
                var saved = returned ?? Installation(api: PendingChange.applying(body, to: state.installation?.apiJSON.objectValue ?? [:]))
                saved.pushRegistrationId = saved.pushRegistrationId ?? id
                state.pendingChanges.removeAll { $0.id == change.id }
                if id == state.installation?.pushRegistrationId { state.installation = saved }
                persist()
                logger.debug("a queued saveInstallation completed")
                emit(.installationUpdated, saved.wrapperJSON)
            case .saveUser:
                let token: String?
                do throws(MobileMessagingError) {
                    token = try await tokenForCall("saveUser", externalUserId: state.user?.externalUserId)
                } catch {
                    return .tokenRefused(error)
                }
                let returned = try await userRequest("saveUser", token: token, externalUserId: state.user?.externalUserId) {
                    (token) async throws(MobileMessagingError) in
                    try await api.patchUser(id, body: body, token: token)
                }
                guard isCurrent(epoch) else { return .delivered }
                // Off the queue at once: the narrower the window between the server's
                // answer and this write, the rarer a repeat after a crash.
                state.pendingChanges.removeAll { $0.id == change.id }
                persist()
                var user = returned
                if user == nil { user = try? await api.fetchUser(id, token: self.token) }
                guard isCurrent(epoch) else { return .delivered }
                let saved = user ?? UserData(api: PendingChange.applying(body, to: state.user?.apiJSON.objectValue ?? [:]))
                logger.debug("a queued saveUser completed")
                storeUser(saved, event: .userUpdated, always: true)
            }
            return .delivered
        } catch {
            if error.isTransient { return .transient(error) }
            if change.kind == .saveUser
                && (error.isAuthenticationRejection || error.isClientTokenRefusal || error.code == MobileMessagingError.Code.authenticationPaused)
            {
                return .tokenRefused(error)
            }
            return .refused(error)
        }
    }

    /// The depersonalize rule: a queued user change that fails for its token and has a
    /// depersonalize queued after it is deleted, not retried. Returns whether it was.
    private func dropIfDepersonalizeFollows(_ change: PendingChange) -> Bool {
        guard let index = state.pendingChanges.firstIndex(where: { $0.id == change.id }),
            state.pendingChanges[(index + 1)...].contains(where: { $0.kind == .depersonalize })
        else { return false }
        dropTokenBlocked([change], method: "depersonalize")
        return true
    }

    /// `depersonalize` called while queued user changes wait for a token: they are deleted.
    private func dropTokenBlockedUserChanges(method: String) {
        let blocked = state.pendingChanges.filter {
            $0.kind == .saveUser && (awaitingToken.contains($0.id) || authenticationPaused)
        }
        dropTokenBlocked(blocked, method: method)
    }

    private func dropTokenBlocked(_ changes: [PendingChange], method: String) {
        guard !changes.isEmpty else { return }
        let code = lastTokenRefusal?.code ?? MobileMessagingError.Code.authenticationPaused
        let ids = Set(changes.map(\.id))
        state.pendingChanges.removeAll { ids.contains($0.id) }
        awaitingToken.subtract(ids)
        persist()
        logger.notice("queued user changes refused for their token are deleted by depersonalize", metadata: ["count": .stringConvertible(ids.count)])
        emit(
            .authenticationError,
            [
                "code": .string(code),
                "description": .string(
                    "\(ids.count) queued user change(s) refused for the user-data JWT were deleted by depersonalize and will not be retried."),
                "method": .string(method),
            ])
    }

    /// After a direct `saveUser` succeeded: fields it set are newer than the same fields
    /// in a queued change still waiting for a token, so those are taken out of it (last
    /// write wins even when the older change is delivered later).
    private func supersedeTokenBlockedFields(_ body: JSONObject) {
        var changed = false
        for index in state.pendingChanges.indices.reversed()
        where state.pendingChanges[index].kind == .saveUser && awaitingToken.contains(state.pendingChanges[index].id) {
            var remaining = JSONObject()
            for member in state.pendingChanges[index].body ?? JSONObject() {
                if member.key == "customAttributes", case .object(let old) = member.value, case .object(let new)? = body[member.key] {
                    let left = JSONObject(old.filter { new[$0.key] == nil }.map { ($0.key, $0.value) })
                    if !left.isEmpty { remaining[member.key] = .object(left) }
                } else if body[member.key] == nil {
                    remaining[member.key] = member.value
                }
            }
            changed = true
            if remaining.isEmpty {
                awaitingToken.remove(state.pendingChanges[index].id)
                state.pendingChanges.remove(at: index)
            } else {
                state.pendingChanges[index].body = remaining
            }
        }
        if changed { persist() }
    }

    /// Whether a queued change can be attempted now (not waiting for a token).
    private var hasDeliverableWork: Bool {
        state.pendingChanges.contains { !($0.kind == .saveUser && (awaitingToken.contains($0.id) || authenticationPaused)) }
    }

    /// Retries queued work after `delay` (never before `Retry-After`), once registered;
    /// one timer at a time.
    private func schedulePendingWork(after delay: Duration) {
        guard hasDeliverableWork, state.installation?.pushRegistrationId != nil, pendingRetryTask == nil, api != nil else {
            return
        }
        var delay = delay
        if let deadline = retryAfterDeadline {
            let remaining = deadline - ContinuousClock.now
            if remaining > delay { delay = remaining }
        }
        let epoch = self.epoch
        pendingRetryTask = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            guard !Task.isCancelled, self.isCurrent(epoch) else { return }
            await self.retryPendingWork(epoch: epoch)
        }
    }

    private func retryPendingWork(epoch: Int) async {
        pendingRetryTask = nil
        await acquireOperationSlot()
        defer { releaseOperationSlot() }
        guard isCurrent(epoch), hasDeliverableWork else { return }
        if let failure = await flushQueue(epoch: epoch, kinds: [.saveUser, .saveInstallation, .depersonalize]) {
            guard isCurrent(epoch) else { return }
            pendingFailures += 1
            schedulePendingWork(after: retryPolicy.jitteredDelay(afterFailures: pendingFailures, retryAfter: failure.retryAfterSeconds))
        } else {
            pendingFailures = 0
        }
    }

    private func nextPendingID() -> String {
        let used = Set(state.pendingChanges.map(\.id))
        var candidate = state.pendingChanges.count + 1
        while used.contains(String(candidate)) { candidate += 1 }
        return String(candidate)
    }

    // MARK: - Authentication failures and the token provider

    private var providerEnabled: Bool { configuration?.userDataJwtProvider == true && tokenProvider != nil }

    /// Before a JWT call waits for its turn: fails fast while paused, and (without the
    /// provider) runs the client-side token checks so a bad token is reported at once.
    private func preflightJWTCall() throws(MobileMessagingError) {
        if authenticationPaused { throw .authenticationPaused(consecutiveAuthFailures) }
        if !providerEnabled { _ = try validatedToken() }
    }

    /// The token a JWT call goes out with. With the provider, a missing token or one
    /// expiring within the leeway is requested first; without an answer the call goes
    /// on as it would have (`App` for none, `JWT_TOKEN_EXPIRED` for an expired one).
    private func tokenForCall(_ method: String, externalUserId: String?) async throws(MobileMessagingError) -> String? {
        if authenticationPaused { throw .authenticationPaused(consecutiveAuthFailures) }
        if providerEnabled, let configuration {
            if let current = token {
                if let jwt = try? UserDataJWT(parsing: current),
                    jwt.expires(within: configuration.userDataJwtProviderLeewaySeconds, now: clock.now)
                {
                    _ = await requestTokenFromProvider(.expired, externalUserId: externalUserId)
                }
            } else {
                _ = await requestTokenFromProvider(.missing, externalUserId: externalUserId)
            }
            if authenticationPaused { throw .authenticationPaused(consecutiveAuthFailures) }
        }
        return try validatedToken()
    }

    /// Asks the wrapper for a token (`requestUserDataJwt`): concurrent needs share one
    /// request, the wait is bounded by `userDataJwtProviderTimeoutSeconds`. A usable
    /// answer becomes the session's token (as `setUserDataJwt` would) and is returned.
    private func requestTokenFromProvider(_ reason: TokenRequestReason, externalUserId: String?) async -> String? {
        guard providerEnabled, let tokenProvider, let configuration else { return nil }
        if !providerRunning {
            providerRunning = true
            providerRound += 1
            let round = providerRound
            let timeout = configuration.userDataJwtProviderTimeoutSeconds
            logger.debug("asking the wrapper for a user-data JWT", metadata: ["reason": .string(reason.rawValue)])
            Task {
                let answer = await tokenProvider.requestToken(reason: reason, externalUserId: externalUserId)
                self.finishProviderRequest(round: round, answer: answer)
            }
            providerTimer = Task {
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                guard !Task.isCancelled else { return }
                self.logger.notice("the wrapper did not answer requestUserDataJwt in time")
                self.finishProviderRequest(round: round, answer: nil)
            }
        }
        // Nothing can finish the round before this waiter is stored: both run on this actor.
        return await withCheckedContinuation { providerWaiters.append($0) }
    }

    private func finishProviderRequest(round: Int, answer: String?) {
        guard providerRunning, round == providerRound else { return }
        providerRunning = false
        providerTimer?.cancel()
        providerTimer = nil
        var fresh = answer.flatMap(Self.normalizedToken)
        if let candidate = fresh, (try? UserDataJWT.validate(candidate, now: clock.now)) == nil {
            logger.notice("the wrapper's token fails the client-side checks; not used", metadata: ["token": .string(Redaction.summary(of: candidate))])
            fresh = nil
        }
        if let fresh, fresh != token {
            token = fresh
            logger.debug("userDataJwt set by the provider", metadata: ["token": .string(Redaction.summary(of: fresh))])
            newTokenArrived()
        }
        let waiters = providerWaiters
        providerWaiters.removeAll()
        for waiter in waiters { waiter.resume(returning: fresh) }
    }

    /// A new token ends what the old one caused: the failure count, the pause, and
    /// queued changes waiting for a token, which are retried now.
    private func newTokenArrived() {
        let wasBlocked = authenticationPaused || !awaitingToken.isEmpty
        consecutiveAuthFailures = 0
        authenticationPaused = false
        awaitingToken.removeAll()
        if wasBlocked {
            pendingRetryTask?.cancel()
            pendingRetryTask = nil
        }
        schedulePendingWork(after: .zero)
    }

    private func recordAuthenticationFailure(_ error: MobileMessagingError, method: String) {
        consecutiveAuthFailures += 1
        logger.notice(
            "the server refused the credentials",
            metadata: [
                "method": .string(method), "code": .string(error.code), "consecutive": .stringConvertible(consecutiveAuthFailures),
            ])
        emit(.authenticationError, ["code": .string(error.code), "description": .string(error.description), "method": .string(method)])
        guard consecutiveAuthFailures >= Self.authenticationFailureLimit, !authenticationPaused else { return }
        authenticationPaused = true
        let paused = MobileMessagingError.authenticationPaused(consecutiveAuthFailures)
        logger.warning("authentication paused: background sync of user data stops until a new token or the next session")
        emit(.authenticationError, ["code": .string(paused.code), "description": .string(paused.description), "method": .string(method)])
    }

    // MARK: - Helpers

    /// Runs `body` after the network operations called before it have finished.
    private func withOperation<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        await acquireOperationSlot()
        defer { releaseOperationSlot() }
        return try await body(epoch)
    }

    private func acquireOperationSlot() async {
        guard operationRunning else {
            operationRunning = true
            return
        }
        await withCheckedContinuation { operationQueue.append($0) }
    }

    private func releaseOperationSlot() {
        if operationQueue.isEmpty {
            operationRunning = false
        } else {
            operationQueue.removeFirst().resume()
        }
    }

    private func isCurrent(_ epoch: Int) -> Bool { epoch == self.epoch }

    @discardableResult
    private func requireConfiguration() throws(MobileMessagingError) -> Configuration {
        guard let configuration else { throw .notInitialized }
        return configuration
    }

    private func requireAPI() throws(MobileMessagingError) -> MobileAPIClient {
        guard let api else { throw .notInitialized }
        return api
    }

    /// The token for a JWT call after the client-side checks, or `nil` when none is set
    /// (the call then goes out with `App`).
    ///
    /// - Throws: `JWT_TOKEN_STRUCTURE_INVALID` / `JWT_TOKEN_EXPIRED` with the wrappers'
    ///   exact descriptions; the caller then sends nothing.
    private func validatedToken() throws(MobileMessagingError) -> String? {
        // The TokenProvider seam: with `userDataJwtProvider`, a missing token or one
        // expiring within the leeway is to be requested from `tokenProvider` here.
        guard let token else { return nil }
        do throws(UserDataJWTError) {
            _ = try UserDataJWT.validate(token, now: clock.now)
            return token
        } catch {
            logger.notice(
                "the user-data JWT was refused on the client; no request sent",
                metadata: ["code": .string(error.code.rawValue), "token": .string(Redaction.summary(of: token))])
            throw .jwt(error)
        }
    }

    /// Runs a request that may carry the JWT. When the server refuses the credentials
    /// (401 or `ACCESS_TOKEN_*`): counts the failure, emits `authenticationError`, and,
    /// with the provider, asks for a new token and retries once with it; else rethrows
    /// (never a retry with the same token). A success resets the failure count.
    private func userRequest<T>(
        _ method: String, token: String?, externalUserId: String?, _ request: (String?) async throws(MobileMessagingError) -> T
    ) async throws(MobileMessagingError) -> T {
        do throws(MobileMessagingError) {
            let result = try await request(token)
            consecutiveAuthFailures = 0
            return result
        } catch {
            guard error.isAuthenticationRejection else { throw error }
            recordAuthenticationFailure(error, method: method)
            guard !authenticationPaused,
                let fresh = await requestTokenFromProvider(.rejected, externalUserId: externalUserId), fresh != token
            else { throw error }
            do throws(MobileMessagingError) {
                let result = try await request(fresh)
                consecutiveAuthFailures = 0
                return result
            } catch {
                if error.isAuthenticationRejection { recordAuthenticationFailure(error, method: method) }
                throw error
            }
        }
    }

    /// The person's installations after a change to one of them: read from the server
    /// (with the token when one is set and passes the checks), or, when that read is
    /// not possible, the local copy with `adjust` applied.
    private func installationsAfterChange(own: String, epoch: Int, adjust: ([Installation]) -> [Installation]) async -> JSONValue {
        let usableToken = token.flatMap { (try? UserDataJWT.validate($0, now: clock.now)) != nil ? $0 : nil }
        if let api, token == nil || usableToken != nil {
            do throws(MobileMessagingError) {
                let user = try await api.fetchUser(own, token: usableToken)
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

    /// Keeps `user` as the last known server copy; emits `event` when it changed (or `always`).
    private func storeUser(_ user: UserData, event: MobileMessagingEvent.Name, always: Bool = false) {
        let changed = state.user != user
        state.user = user
        if changed { persist() }
        if changed || always { emit(event, user.wrapperJSON) }
    }

    private func storeInstallation(_ installation: Installation) {
        guard state.installation != installation else { return }
        state.installation = installation
        persist()
        emit(.installationUpdated, installation.wrapperJSON)
    }

    private func emit(_ name: MobileMessagingEvent.Name, _ payload: JSONValue) {
        logger.debug("event", metadata: ["eventName": .string(name.rawValue)])
        events.emit(MobileMessagingEvent(name: name, payload: payload))
    }

    /// Writes the state; a failure is logged, not thrown: the server already accepted
    /// the change, and the next write will carry it.
    private func persist() {
        do throws(MobileMessagingError) {
            try persistOrThrow()
        } catch {
            logger.error("the state could not be written", metadata: ["description": .string(error.description)])
        }
    }

    private func persistOrThrow() throws(MobileMessagingError) {
        guard let store else { return }
        try store.save(state, includeUser: !(configuration?.userDataPersistingDisabled ?? false))
    }

    /// Forgets everything but the application code, stops background work, and makes
    /// in-flight work drop its results.
    private func wipe(keeping applicationCode: String) {
        epoch += 1
        stopBackgroundWork(reason: "The local state was wiped before the registration finished.")
        state = PersistedState(applicationCode: applicationCode)
        registrationFailures = 0
        pendingFailures = 0
        awaitingToken.removeAll()
        retryAfterDeadline = nil
        lastQueueError = nil
        consecutiveAuthFailures = 0
        authenticationPaused = false
    }

    private func stopBackgroundWork(reason: String) {
        registrationTask?.cancel()
        registrationTask = nil
        registrationRetryTask?.cancel()
        registrationRetryTask = nil
        pendingRetryTask?.cancel()
        pendingRetryTask = nil
        resumeRegistrationWaiters(.failure(.noRegistration(reason)))
    }

    private static func normalizedToken(_ token: String?) -> String? {
        guard let token, !token.unicodeScalars.allSatisfy(\.properties.isWhitespace) else { return nil }
        return token
    }

    private static func requiredID(_ value: JSONValue) throws(InvalidParameter) -> String {
        guard case .string(let id) = value else {
            throw InvalidParameter(field: "pushRegistrationId", reason: "must be a string, got \(value.typeName)")
        }
        guard !id.isEmpty else { throw InvalidParameter(field: "pushRegistrationId", reason: "must not be empty") }
        return id
    }

    static var platformName: String {
        #if os(Linux)
            "Linux"
        #elseif os(macOS)
            "macOS"
        #elseif os(Windows)
            "Windows"
        #else
            "unknown"
        #endif
    }
}

extension Duration {
    /// The duration in seconds, for timestamps in the state file.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
