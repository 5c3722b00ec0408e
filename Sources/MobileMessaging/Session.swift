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
/// in memory only.
public actor Session {
    // MARK: Injected

    private let stateDirectory: String
    private let transport: any HTTPTransport
    private let events: any EventSink
    private var logger: Logger
    private let clock: WallClock
    /// Held for the opt-in pull model (`userDataJwtProvider`); see ``TokenProvider``.
    private let tokenProvider: (any TokenProvider)?
    private let retryPolicy: RetryPolicy

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
    ///   - retryPolicy: delays of background retries (registration, pending depersonalize).
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
        api = MobileAPIClient(configuration: configuration, transport: transport)
        token = Self.normalizedToken(configuration.userDataJwt)

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
        switch jwt {
        case .null: token = nil
        case .string(let text): token = Self.normalizedToken(text)
        default: throw InvalidParameter(field: "jwt", reason: "must be a string or null, got \(jwt.typeName)")
        }
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
        _ = try validatedToken()
        return try await withUserCall { call throws(MobileMessagingError) in
            let base = state.user
            let body = update.patchBody(base: base)
            if body.isEmpty {
                // Nothing to change: the copy we have is the answer, or else the server's.
                guard let base else { return try await readUser(call, method: "saveUser").wrapperJSON }
                logger.debug("saveUser: nothing differs from the server copy; no request")
                return base.wrapperJSON
            }
            let returned = try await userRequest("saveUser") { () async throws(MobileMessagingError) in
                try await call.api.patchUser(call.own, body: body, token: call.token)
            }
            var user: UserData
            if let returned {
                user = returned
            } else {
                do throws(MobileMessagingError) {
                    user = try await call.api.fetchUser(call.own, token: call.token)
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
        _ = try validatedToken()
        return try await withUserCall { call throws(MobileMessagingError) in
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
        _ = try validatedToken()
        return try await withUserCall { call throws(MobileMessagingError) in
            let returned = try await userRequest("personalize") { () async throws(MobileMessagingError) in
                try await call.api.personalize(call.own, context: context, token: call.token)
            }
            var user: UserData
            if let returned {
                user = returned
            } else if let fetched = try? await call.api.fetchUser(call.own, token: call.token) {
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
    /// calls made before it, with the installation registered and a queued depersonalize
    /// delivered first (so a change never lands on the previous person), and the token
    /// checked again right before anything is sent.
    private func withUserCall(_ body: (UserCall) async throws(MobileMessagingError) -> JSONValue) async throws -> JSONValue {
        try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            try await deliverPendingDepersonalize()
            let call = UserCall(own: own, token: try validatedToken(), api: try requireAPI(), epoch: epoch)
            return try await body(call)
        }
    }

    /// `GET .../user` for `method`; keeps the answer as the local copy.
    private func readUser(_ call: UserCall, method: String) async throws(MobileMessagingError) -> UserData {
        let user = try await userRequest(method) { () async throws(MobileMessagingError) in
            try await call.api.fetchUser(call.own, token: call.token)
        }
        if isCurrent(call.epoch) { storeUser(user, event: .userUpdated) }
        return user
    }

    /// `depersonalize`: detaches the person from this installation (always with `App`).
    /// Returns `"success"`, or `"pending"` when the server cannot be reached (network,
    /// timeout, 5xx): the local user is forgotten at once, the request is kept in the
    /// state file and retried in the background and before the next user call, and
    /// `depersonalized` is emitted when it completes.
    public func depersonalize() async throws -> JSONValue {
        _ = try requireConfiguration()
        return try await withOperation { epoch throws(MobileMessagingError) in
            let own = try await registeredInstallationID()
            if state.pendingDepersonalize != nil {
                // The same request is already queued: deliver it rather than queue another.
                let refusal: MobileMessagingError?
                do throws(MobileMessagingError) {
                    refusal = try await deliverPendingDepersonalize()
                } catch where error.isTransient {
                    return "pending"
                }
                if let refusal { throw refusal }
                return "success"
            }
            let api = try requireAPI()
            do throws(MobileMessagingError) {
                try await api.depersonalize(own, own: own)
            } catch where error.isTransient {
                guard isCurrent(epoch) else { return "pending" }
                logger.notice("depersonalize could not reach the server; kept for a retry", metadata: ["code": .string(error.code)])
                let now = clock.now
                let delay = retryPolicy.delay(afterFailures: 1)
                state.pendingChanges.append(
                    PendingChange(
                        id: nextPendingID(), kind: .depersonalize, pushRegistrationId: own, createdAt: now, attempts: 1,
                        nextAttemptAt: now + delay.seconds))
                state.user = nil
                persist()
                pendingFailures = 1
                schedulePendingWork(after: delay)
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
            let base = state.installation
            let body = update.patchBody(base: base)
            if body.isEmpty, let base { return base.wrapperJSON }
            let api = try requireAPI()
            var saved: Installation
            if let returned = try await api.patchInstallation(own, body: body, own: own) {
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

    // MARK: - Pending work

    /// Delivers a queued depersonalize, if any: on success the entry is removed and
    /// `depersonalized` emitted; a transient failure is recorded and thrown (the change
    /// stays queued); any other failure drops the entry (retrying cannot help), is
    /// logged and returned, so that it does not block the user calls that follow.
    @discardableResult
    private func deliverPendingDepersonalize() async throws(MobileMessagingError) -> MobileMessagingError? {
        guard let pending = state.pendingDepersonalize else { return nil }
        let epoch = self.epoch
        let api = try requireAPI()
        do throws(MobileMessagingError) {
            try await api.depersonalize(pending.pushRegistrationId, own: pending.pushRegistrationId)
        } catch {
            guard isCurrent(epoch), let index = state.pendingChanges.firstIndex(where: { $0.id == pending.id }) else {
                throw error
            }
            if error.isTransient {
                state.pendingChanges[index].attempts += 1
                state.pendingChanges[index].nextAttemptAt =
                    clock.now + retryPolicy.delay(afterFailures: state.pendingChanges[index].attempts).seconds
                persist()
                throw error
            }
            logger.error(
                "a pending depersonalize was refused and is dropped",
                metadata: ["code": .string(error.code), "description": .string(error.description)])
            state.pendingChanges.remove(at: index)
            persist()
            return error
        }
        guard isCurrent(epoch) else { return nil }
        state.pendingChanges.removeAll { $0.id == pending.id }
        pendingFailures = 0
        persist()
        logger.debug("the pending depersonalize completed")
        emit(.depersonalized, .null)
        return nil
    }

    /// Retries queued work after `delay`, once registered; one timer at a time.
    private func schedulePendingWork(after delay: Duration) {
        guard state.pendingDepersonalize != nil, state.installation?.pushRegistrationId != nil, pendingRetryTask == nil,
            api != nil
        else { return }
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
        guard isCurrent(epoch), state.pendingDepersonalize != nil else { return }
        do throws(MobileMessagingError) {
            try await deliverPendingDepersonalize()
        } catch {
            guard isCurrent(epoch) else { return }
            pendingFailures += 1
            logger.debug("a pending depersonalize is still pending", metadata: ["code": .string(error.code)])
            schedulePendingWork(after: retryPolicy.delay(afterFailures: pendingFailures))
        }
    }

    private func nextPendingID() -> String {
        let used = Set(state.pendingChanges.map(\.id))
        var candidate = state.pendingChanges.count + 1
        while used.contains(String(candidate)) { candidate += 1 }
        return String(candidate)
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

    /// Runs a request that may carry the JWT; when the server refuses the credentials
    /// (401 or `ACCESS_TOKEN_*`), emits `authenticationError` and rethrows: no retry
    /// with the same token.
    private func userRequest<T>(_ method: String, _ request: () async throws(MobileMessagingError) -> T)
        async throws(MobileMessagingError) -> T
    {
        do throws(MobileMessagingError) {
            return try await request()
        } catch {
            if error.isAuthenticationRejection {
                logger.notice("the server refused the credentials", metadata: ["method": .string(method), "code": .string(error.code)])
                emit(
                    .authenticationError,
                    ["code": .string(error.code), "description": .string(error.description), "method": .string(method)])
            }
            throw error
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
