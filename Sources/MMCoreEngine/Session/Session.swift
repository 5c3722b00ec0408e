import JSON
import Logging
import UserDataJWT

/// The SDK engine behind the bridge: where calls are admitted, in call order, and handed
/// to the part that owns them.
///
/// Admission (one `admit…` method per call, synchronous, on the ``EngineActor``) runs the
/// checks that refuse a call before anything is sent, answers local reads at once, and
/// puts every call that touches the Mobile API or the persisted state on one serial
/// ``CallLane``, which runs them one at a time, first in, first out: each PATCH is
/// computed against the copy the previous one left, and a `depersonalize` written after
/// a `saveUser` runs after it. Changes admitted but not finished are visible to local
/// reads (``LocalChanges``).
///
/// The parts of one generation of the state (``SessionServices``: the user, the
/// installation, the registration, the sync delivery, the authentication) live from an
/// `init` to the `cleanup`, new application or shutdown that ends them; ``Lifecycle``
/// says where the session stands. The JWT lives in memory only (``UserDataTokens``).
/// Events go to the injected ``EventSink``. Nothing here knows about JSON-RPC.
/// How the parts fit: `docs/architecture.md`.
@EngineActor
public final class Session {
    private let environment: SessionEnvironment
    private var logger: Logger
    private let lane: CallLane
    private let tokens: UserDataTokens
    private var lifecycle = Lifecycle.unopened

    /// - Parameters:
    ///   - stateDirectory: where state lives; created (0700) and locked at the first `init`.
    ///   - transport: HTTP; the default creates its client on the first request only.
    ///   - events: receives every event, in order.
    ///   - clock: the time used for the client-side JWT expiry check.
    ///   - monotonicClock: the time `Retry-After` windows are measured on.
    ///   - tokenProvider: asked for fresh tokens when `userDataJwtProvider` is on.
    ///   - retryPolicy: delays of background retries (registration, the sync queue); the
    ///     configuration's `retryBaseDelaySeconds` / `retryMaxDelaySeconds` override it.
    public nonisolated init(
        stateDirectory: String, transport: any HTTPTransport = AsyncHTTPClientTransport(), events: any EventSink,
        logger: Logger, clock: WallClock = .system, monotonicClock: MonotonicClock = .system,
        tokenProvider: (any TokenProvider)? = nil, retryPolicy: RetryPolicy = .standard
    ) {
        environment = SessionEnvironment(
            stateDirectory: stateDirectory, transport: transport, events: events, clock: clock, monotonicClock: monotonicClock,
            defaultRetryPolicy: retryPolicy)
        self.logger = logger
        lane = CallLane()
        tokens = UserDataTokens(provider: tokenProvider)
    }

    // MARK: - init, setUserDataJwt, cleanup, shutdown (answered at admission)

    /// `init`: accepts the configuration and loads the state; the first registration
    /// (when there is no pushRegistrationId yet) runs in the background and ends with a
    /// `registrationUpdated` event. Nothing touches the network before this returns.
    ///
    /// A different `applicationCode` than the stored one wipes the old state. May be
    /// called again (e.g. after `STATE_CORRUPTED`, which leaves the session
    /// uninitialized with the bad file moved aside, so the next `init` starts clean).
    ///
    /// - Throws: `STATE_LOCKED`, `STATE_CORRUPTED`, `STATE_UNAVAILABLE`.
    public func start(_ configuration: Configuration) throws(MobileMessagingError) {
        var state = try loadedState()
        if let previous = state.applicationCode, previous != configuration.applicationCode {
            logger.notice("a new applicationCode: the previous application's state is wiped")
            state = endGeneration(wiping: state, reason: "The local state was wiped before the registration finished.")
        }
        // Written before the session counts as initialized, so a failure leaves it uninitialized.
        try state.configure(applicationCode: configuration.applicationCode, persistsUser: !configuration.userDataPersistingDisabled)
        if configuration.loggingEnabled && logger.logLevel > .debug { logger.logLevel = .debug }

        let services: SessionServices
        if let running = lifecycle.services, running.state === state {
            running.reconfigure(configuration, environment: environment)
            services = running
        } else {
            services = SessionServices(
                configuration: configuration, state: state, tokens: tokens, lane: lane, environment: environment, logger: logger)
            lifecycle = .running(services)
        }
        services.authentication.set(configuration.userDataJwt)
        logger.debug(
            "initialized",
            metadata: [
                "backend": .string(configuration.backendBaseURL),
                "registered": .stringConvertible(state.ownID != nil),
                "token": .string(tokens.summary),
            ])
        services.start()
    }

    /// The state, locking the directory and loading the file first if that is still to do.
    private func loadedState() throws(MobileMessagingError) -> LocalState {
        let store: StateStore
        switch lifecycle {
        case .stopped(let state): return state
        case .running(let services): return services.state
        case .opened(let opened): store = opened
        case .unopened:
            store = try StateStore(directory: environment.stateDirectory)
            lifecycle = .opened(store)
        }
        let document = try store.load(now: environment.clock.now)
        let heldEvents = try HeldEvents.open(directory: store.directory, now: environment.clock.now, logger: logger)
        let state = LocalState(store: store, document: document, heldEvents: heldEvents, events: environment.events, logger: logger)
        lifecycle = .stopped(state)
        return state
    }

    /// Ends the current generation: admitted work becomes stale, background work stops,
    /// and `state` is closed; returns the empty state of the next generation.
    private func endGeneration(wiping state: LocalState, reason: String) -> LocalState {
        lane.startGeneration()
        let fresh = state.wiped() ?? state
        lifecycle.services?.end(reason)
        lifecycle = .stopped(fresh)
        return fresh
    }

    /// `setUserDataJwt`: sets the token for `saveUser`, `fetchUser` and `personalize`.
    /// Not validated here but when used, as the wrappers do, so the error reaches the
    /// call that needed the token.
    public func setToken(_ jwt: String?) throws(MobileMessagingError) {
        try running().authentication.set(jwt)
        logger.debug("userDataJwt set", metadata: ["token": .string(tokens.summary)])
    }

    /// `cleanup`: forgets the installation, the user, the token and all pending work,
    /// locally (nothing is sent), and stops the session: every call but `init` then
    /// answers `NOT_INITIALIZED`, as the plugins' "stopping all services ... call init()
    /// again" says. Calls admitted before it and not finished are abandoned.
    public func cleanUp() throws(MobileMessagingError) {
        let services = try running()
        let configuration = services.backend.configuration
        let fresh = endGeneration(wiping: services.state, reason: "The local state was wiped before the registration finished.")
        tokens.set(nil)
        try fresh.configure(applicationCode: configuration.applicationCode, persistsUser: !configuration.userDataPersistingDisabled)
        logger.debug("cleaned up; the session is stopped until the next init")
    }

    /// Stops background work (registration, retries), abandons queued calls and
    /// releases the state lock; for the host's shutdown. Every change is already on
    /// disk when it is made.
    public func shutdown() {
        do throws(MobileMessagingError) {
            try lifecycle.state?.flush()
        } catch {
            logger.error("the state could not be made durable at shutdown", metadata: ["description": .string(error.description)])
        }
        lane.startGeneration()
        lifecycle.services?.end("The session was shut down.")
        lifecycle.state?.close()
        lifecycle = .unopened
    }

    // MARK: - User calls

    /// `saveUser`: limits and the token are checked first (nothing is sent when they fail).
    public func admitSaveUser(_ change: UserDataChange) throws(MobileMessagingError) -> CallWork {
        let update = change.update
        return try enqueue(.saveUser, local: .user(update.patchBody(base: nil))) { services throws(MobileMessagingError) in
            // Both SDKs check the People API's limits before anything else.
            if let violations = UserDataValidator.validationDescription(of: update) { throw .userDataValidation(violations) }
            try services.authentication.preflight()
        } run: { services in
            try await services.users.save(update)
        }
    }

    public func admitFetchUser() throws(MobileMessagingError) -> CallWork {
        try enqueue(.fetchUser) { services throws(MobileMessagingError) in
            try services.authentication.preflight()
        } run: { services in
            try await services.users.fetch()
        }
    }

    /// `getUser`: answered at admission from the local copy.
    public func localUser() throws(MobileMessagingError) -> JSONValue {
        try running().users.local()
    }

    /// `personalize`: custom events submitted before it are sent before it.
    public func admitPersonalize(_ context: PersonalizeContext) throws(MobileMessagingError) -> CallWork {
        try admitPersonChange { boundary throws(MobileMessagingError) in
            try enqueue(.personalize) { services throws(MobileMessagingError) in
                // The iOS SDK cannot even build such an identity; nothing is sent for it.
                guard context.hasIdentity else { throw .userIdentityInvalid }
                if let violations = UserDataValidator.validationDescription(of: context) { throw .userDataValidation(violations) }
                try services.authentication.preflight()
            } run: { services in
                defer { services.events.personChangeEnded(boundary) }
                return try await services.users.personalize(context, eventBoundary: boundary)
            }
        }
    }

    /// `depersonalize`: always with `App`; drops the token it was admitted under. Custom
    /// events submitted before it are sent before it.
    public func admitDepersonalize() throws(MobileMessagingError) -> CallWork {
        let tokenGeneration = tokens.generation
        return try admitPersonChange { boundary throws(MobileMessagingError) in
            try enqueue(.depersonalize, local: .userRemoved) { services in
                defer { services.events.personChangeEnded(boundary) }
                return try await services.users.depersonalize(tokenGeneration: tokenGeneration, eventBoundary: boundary)
            }
        }
    }

    // MARK: - Installation calls

    public func admitSaveInstallation(_ change: InstallationChange) throws(MobileMessagingError) -> CallWork {
        let update = change.update
        return try enqueue(.saveInstallation, local: .installation(update.patchBody(base: nil))) { services in
            try await services.installations.save(update)
        }
    }

    public func admitFetchInstallation() throws(MobileMessagingError) -> CallWork {
        try enqueue(.fetchInstallation) { services in
            try await services.installations.fetch()
        }
    }

    /// `getInstallation`: answered at admission from the local copy.
    public func localInstallation() throws(MobileMessagingError) -> JSONValue {
        try running().installations.local()
    }

    public func admitSetInstallationAsPrimary(_ pushRegistrationId: String, primary: Bool) throws(MobileMessagingError) -> CallWork {
        try enqueue(.setInstallationAsPrimary) { services in
            try await services.installations.setPrimary(pushRegistrationId, primary: primary)
        }
    }

    public func admitDepersonalizeInstallation(_ pushRegistrationId: String) throws(MobileMessagingError) -> CallWork {
        try enqueue(.depersonalizeInstallation) { services in
            try await services.installations.depersonalize(pushRegistrationId)
        }
    }

    // MARK: - Inbox calls

    /// `fetchInboxMessages` (`token` given: `Bearer`, checked first) or
    /// `fetchInboxMessagesWithoutToken` (`App`). Takes its place on the lane, so a fetch
    /// written after `setInboxMessagesSeen` runs after it.
    public func admitFetchInbox(token: String?, externalUserId: String, options: InboxFilterOptions) throws(MobileMessagingError)
        -> CallWork
    {
        try enqueue(token == nil ? .fetchInboxMessagesWithoutToken : .fetchInboxMessages) { services throws(MobileMessagingError) in
            try services.inbox.checkToken(token, for: externalUserId)
        } run: { services in
            try await services.inbox.fetch(token: token, externalUserId: externalUserId, options: options)
        }
    }

    public func admitSetInboxMessagesSeen(externalUserId: String, messageIds: [String]) throws(MobileMessagingError) -> CallWork {
        try enqueue(.setInboxMessagesSeen) { services in
            try await services.inbox.markSeen(externalUserId: externalUserId, messageIds: messageIds)
        }
    }

    // MARK: - Custom events

    /// `submitEvent`: answered (`null`) once the event is written to `events.json`; sent
    /// later in a batch, once registered, in front of any later person change.
    ///
    /// - Throws: `NOT_INITIALIZED`, `CUSTOM_EVENTS_LIMIT_REACHED`, `STATE_UNAVAILABLE`.
    public func submitEvent(_ input: CustomEventInput) throws(MobileMessagingError) {
        try running().events.submit(input)
    }

    /// `submitEventImmediately`: one event, `validate=true`, in call order once
    /// registered; answers `null` or the server's refusal. Nothing is kept for a retry.
    public func admitSubmitEventImmediately(_ input: CustomEventInput) throws(MobileMessagingError) -> CallWork {
        let event = input.stamped(at: environment.clock.now)
        return try enqueue(.submitEventImmediately) { services in
            let own = try await services.registration.installationID()
            try await services.events.sendImmediately(event, own: own)
            return .null
        }
    }

    /// For tests: a shorter quiet period than the natives' 2 s, for the running generation.
    func setCustomEventTiming(quietPeriod: Duration, maximumWait: Duration) {
        lifecycle.services?.events.setTiming(quietPeriod: quietPeriod, maximumWait: maximumWait)
    }

    // MARK: - Admission

    private func running() throws(MobileMessagingError) -> SessionServices {
        guard let services = lifecycle.services else { throw .notInitialized }
        return services
    }

    /// Admits a call that changes the person this installation belongs to: `admit` gets
    /// the custom events' boundary, which its step ends; refused at admission, it ends now.
    private func admitPersonChange(_ admit: (Int) throws(MobileMessagingError) -> CallWork) throws(MobileMessagingError) -> CallWork {
        let events = try running().events
        let boundary = events.openBoundary()
        do throws(MobileMessagingError) {
            return try admit(boundary)
        } catch {
            events.abandonBoundary(boundary)
            throw error
        }
    }

    /// Admits a call that needs the session: `checks` (refusals that send nothing) run
    /// now, then the call takes its place on the lane. `local` is shown to local reads
    /// until the call ends.
    private func enqueue(
        _ call: Call, local: LocalChanges.Change? = nil,
        checks: (SessionServices) throws(MobileMessagingError) -> Void = { _ in },
        run body: @escaping @EngineActor (SessionServices) async throws -> JSONValue
    ) throws(MobileMessagingError) -> CallWork {
        let services = try running()
        try checks(services)
        let ticket = local.map { services.admitted.add($0) }
        return lane.admit(call.rawValue) {
            defer {
                if let ticket { services.admitted.remove(ticket) }
                services.keepRoute()
            }
            return try await body(services)
        }
    }
}
