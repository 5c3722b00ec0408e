import JSON
import Logging
import UserDataJWT

/// The SDK core behind the bridge: composes the serial lane, the registration, the sync
/// queue, the authentication gate and the token source, and owns the persisted state.
///
/// Every call is *admitted* in call order (``BridgeMethod/admit(on:)``, on this actor):
/// local reads and refusals are answered there; calls that touch the Mobile API or the
/// persisted state take their place on one serial ``CallLane`` and run one at a time,
/// first in, first out, so each PATCH is computed against the copy the previous one left
/// and a `depersonalize` written after a `saveUser` runs after it. Changes admitted but
/// not finished are visible to local reads (``LocalChanges``). State is written after
/// every change (see ``StateStore``); the JWT lives in memory only. Events go to the
/// injected ``EventSink``. Nothing here knows about stdio. How the parts fit:
/// `docs/architecture.md`.
public actor Session {
    // MARK: Injected

    let stateDirectory: String
    let transport: any HTTPTransport
    let events: any EventSink
    var logger: Logger
    let clock: WallClock
    /// The time `Retry-After` windows are measured on.
    let monotonicClock: MonotonicClock
    /// The opt-in pull model (`userDataJwtProvider`).
    let tokenRequests: TokenRequestFlight?
    /// The policy given at creation; the configuration may shorten it.
    let defaultRetryPolicy: RetryPolicy

    // MARK: State

    var configuration: Configuration?
    var api: MobileAPIClient?
    var store: StateStore?
    var stateLoaded = false
    /// The installation, the user and the application code as last persisted; the
    /// queued changes live in ``queue``.
    var state = PersistedState()
    var queue = SyncQueue()
    var tokens = UserDataTokenSource()
    var authentication = AuthenticationGate()
    var registration = RegistrationState()
    var retries: RetrySchedule
    var pendingRetryTask: Task<Void, Never>?
    var lane = CallLane()
    var admittedChanges = LocalChanges()
    /// Inbox messages known to be seen (`Session+Inbox.swift`).
    var inboxSeenLedger = InboxSeenLedger()
    /// A queued depersonalize the server refused while the queue was delivered.
    var lastDepersonalizeRefusal: MobileMessagingError?
    /// Bumped when the state is wiped (`cleanup`, a new application code): work admitted
    /// or started before must not write its result into the new state.
    var epoch = 0

    /// - Parameters:
    ///   - stateDirectory: where state lives; created (0700) and locked at the first `init`.
    ///   - transport: HTTP; the default creates its client on the first request only.
    ///   - events: receives every event, in order.
    ///   - clock: the time used for the client-side JWT expiry check.
    ///   - monotonicClock: the time `Retry-After` windows are measured on.
    ///   - tokenProvider: asked for fresh tokens when `userDataJwtProvider` is on.
    ///   - retryPolicy: delays of background retries (registration, the sync queue); the
    ///     configuration's `retryBaseDelaySeconds` / `retryMaxDelaySeconds` override it.
    public init(
        stateDirectory: String, transport: any HTTPTransport = AsyncHTTPClientTransport(), events: any EventSink,
        logger: Logger = Logger(label: "mobile-messaging"), clock: WallClock = .system,
        monotonicClock: MonotonicClock = .system, tokenProvider: (any TokenProvider)? = nil,
        retryPolicy: RetryPolicy = .standard
    ) {
        self.stateDirectory = stateDirectory
        self.transport = transport
        self.events = events
        self.logger = logger
        self.clock = clock
        self.monotonicClock = monotonicClock
        self.tokenRequests = tokenProvider.map(TokenRequestFlight.init(provider:))
        self.defaultRetryPolicy = retryPolicy
        self.retries = RetrySchedule(policy: retryPolicy)
    }

    // MARK: - init, setUserDataJwt, cleanup (answered at admission)

    /// `init`: accepts the configuration and loads the state; the first registration
    /// (when there is no pushRegistrationId yet) runs in the background and ends with a
    /// `registrationUpdated` event. Nothing touches the network before this returns.
    ///
    /// A different `applicationCode` than the stored one wipes the old state. May be
    /// called again (e.g. after `STATE_CORRUPTED`, which leaves the session
    /// uninitialized with the bad file moved aside, so the next `init` starts clean).
    ///
    /// - Throws: `STATE_LOCKED`, `STATE_CORRUPTED`, `STATE_UNAVAILABLE`.
    func start(_ configuration: Configuration) throws(MobileMessagingError) {
        if store == nil {
            store = try StateStore(directory: stateDirectory)
        }
        if !stateLoaded, let store {
            state = try store.load(now: clock.now)
            // Entries of kinds a newer version wrote stay in the file; their ids stay taken.
            queue = SyncQueue(state.pendingChanges, reservedIDs: Set(state.unrecognizedPendingChanges.compactMap { $0["id"]?.stringValue }))
            state.pendingChanges = []
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
            try store.save(persistedDocument, includeUser: !configuration.userDataPersistingDisabled)
        }
        if configuration.loggingEnabled && logger.logLevel > .debug { logger.logLevel = .debug }
        self.configuration = configuration
        retries.policy = configuration.retryPolicy(fallback: defaultRetryPolicy)
        // A route learned under another backendBaseURL does not apply to this one.
        let learned = state.route.flatMap { $0.configured == configuration.backendBaseURL ? $0 : nil }
        let route = BaseURLSource(learned ?? BaseURLRoute(configured: configuration.backendBaseURL))
        api = MobileAPIClient(configuration: configuration, transport: transport, route: route)
        checkBaseURLIfDue()
        if tokens.set(configuration.userDataJwt), tokens.token != nil { newTokenArrived() }

        logger.debug(
            "initialized",
            metadata: [
                "backend": .string(configuration.backendBaseURL),
                "registered": .stringConvertible(state.installation?.pushRegistrationId != nil),
                "token": .string(tokens.summary),
            ])
        startRegistrationIfNeeded()
        schedulePendingWork(after: .zero)
    }

    /// `setUserDataJwt`: sets the token for `saveUser`, `fetchUser` and `personalize`.
    /// Not validated here but when used, as the wrappers do, so the error reaches the
    /// call that needed the token.
    func setToken(_ jwt: String?) throws(MobileMessagingError) {
        try requireConfiguration()
        if tokens.set(jwt), tokens.token != nil { newTokenArrived() }
        logger.debug("userDataJwt set", metadata: ["token": .string(tokens.summary)])
    }

    /// `cleanup`: forgets the installation, the user, the token and all pending work,
    /// locally (nothing is sent), and stops the session: every call but `init` then
    /// answers `NOT_INITIALIZED`, as the plugins' "stopping all services ... call init()
    /// again" says. Calls admitted before it and not finished are abandoned.
    func cleanUp() throws(MobileMessagingError) {
        let configuration = try requireConfiguration()
        wipe(keeping: configuration.applicationCode)
        tokens.set(nil)
        try persistOrThrow(durable: true)
        self.configuration = nil
        api = nil
        logger.debug("cleaned up; the session is stopped until the next init")
    }

    /// Stops background work (registration, retries), abandons queued calls and
    /// releases the state lock; for the executable's shutdown. Every change is already on
    /// disk when it is made.
    public func shutdown() {
        stopBackgroundWork(reason: "The session was shut down.")
        do throws(MobileMessagingError) {
            try store?.flush()
        } catch {
            logger.error("the state could not be made durable at shutdown", metadata: ["description": .string(error.description)])
        }
        epoch += 1
        configuration = nil
        api = nil
        store = nil
        stateLoaded = false
    }

    // MARK: - The lane

    /// Admits a call that needs the session: `checks` (refusals that send nothing) run
    /// now, then the call takes its place on the lane. `local` is shown to local reads
    /// until the call ends. The call runs only if the session is still the one it was
    /// admitted to (no `cleanup` or new application in between).
    func enqueue(
        _ method: String, local: LocalChanges.Change? = nil, checks: () throws(MobileMessagingError) -> Void = {},
        _ body: @escaping @Sendable (isolated Session) async throws -> JSONValue
    ) -> Admitted {
        do throws(MobileMessagingError) {
            try requireConfiguration()
            try checks()
        } catch {
            return .failed(error)
        }
        let admittedEpoch = epoch
        let ticket = local.map { admittedChanges.add($0) }
        let task = lane.admit { [self] in
            try await self.runQueued(method, epoch: admittedEpoch, ticket: ticket, body)
        }
        return .queued(task)
    }

    private func runQueued(
        _ method: String, epoch admittedEpoch: Int, ticket: Int?,
        _ body: @Sendable (isolated Session) async throws -> JSONValue
    ) async throws -> JSONValue {
        defer {
            if let ticket { admittedChanges.remove(ticket) }
            if admittedEpoch == epoch { keepRoute() }
        }
        guard admittedEpoch == epoch, configuration != nil else {
            throw MobileMessagingError.stoppedBeforeRunning(method)
        }
        return try await body(self)
    }

    /// The common admission checks of a call that needs the session.
    @discardableResult
    func requireConfiguration() throws(MobileMessagingError) -> Configuration {
        guard let configuration else { throw .notInitialized }
        return configuration
    }

    func requireAPI() throws(MobileMessagingError) -> MobileAPIClient {
        guard let api else { throw .notInitialized }
        return api
    }

    func isCurrent(_ epoch: Int) -> Bool { epoch == self.epoch }

    // MARK: - State and events

    /// What goes to disk: the state with the queue's changes.
    var persistedDocument: PersistedState {
        var document = state
        document.pendingChanges = queue.changes
        return document
    }

    /// Writes the state; a failure is logged, not thrown: the server already accepted
    /// the change, and the next write will carry it.
    func persist() {
        do throws(MobileMessagingError) {
            try persistOrThrow(durable: false)
        } catch {
            logger.error("the state could not be written", metadata: ["description": .string(error.description)])
        }
    }

    /// `durable`: the write holds a change only this file knows about (a queued change),
    /// so it must reach the disk before the caller is answered.
    func persistOrThrow(durable: Bool) throws(MobileMessagingError) {
        guard let store else { return }
        // A copy of what the server holds need not reach the disk before the answer (the
        // rename still orders it; the store syncs it with the next durable write or at
        // shutdown). A document holding queued changes is always synced by the store.
        try store.save(
            persistedDocument, includeUser: !(configuration?.userDataPersistingDisabled ?? false),
            durability: durable ? .synced : .ordered)
    }

    /// Keeps `user` as the last known server copy; emits `event` when it changed (or `always`).
    func storeUser(_ user: UserData, event: MobileMessagingEvent.Name, always: Bool = false) {
        let changed = state.user != user
        state.user = user
        if changed { persist() }
        if changed || always { emit(event, user.wrapperJSON) }
    }

    func storeInstallation(_ installation: Installation) {
        guard state.installation != installation else { return }
        state.installation = installation
        persist()
        emit(.installationUpdated, installation.wrapperJSON)
    }

    func emit(_ name: MobileMessagingEvent.Name, _ payload: JSONValue) {
        logger.debug("event", metadata: ["eventName": .string(name.rawValue)])
        events.emit(MobileMessagingEvent(name: name, payload: payload))
    }

    /// Forgets everything but the application code, stops background work, and makes
    /// admitted and in-flight work drop its results.
    func wipe(keeping applicationCode: String) {
        epoch += 1
        stopBackgroundWork(reason: "The local state was wiped before the registration finished.")
        state = PersistedState(applicationCode: applicationCode)
        queue.removeAll()
        inboxSeenLedger.removeAll()
        admittedChanges.removeAll()
        retries.reset()
        authentication.reset()
    }

    func stopBackgroundWork(reason: String) {
        registration.reset(.noRegistration(reason))
        pendingRetryTask?.cancel()
        pendingRetryTask = nil
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

extension MobileMessagingError {
    /// A call admitted before `cleanup` (or an `init` for another application) that had
    /// not run yet: it is not sent.
    static func stoppedBeforeRunning(_ method: String) -> MobileMessagingError {
        MobileMessagingError(
            .notInitialized,
            description: "\(method) was not sent: the session was cleaned up or initialized for another application before its turn.")
    }
}

extension Duration {
    /// The duration in seconds, for timestamps in the state file.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
