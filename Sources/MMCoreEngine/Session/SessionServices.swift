import JSON
import Logging

/// The parts that serve calls for one generation of the session's state, wired once:
/// from an `init` to the `cleanup`, the `init` for another application or the shutdown
/// that ends it. Ending it closes its ``LocalState``, so work still in flight cannot
/// write into the next generation, and stops its background work.
@EngineActor
final class SessionServices {
    let backend: Backend
    let state: LocalState
    let authentication: Authentication
    let registration: Registration
    let delivery: SyncDelivery
    let users: UserService
    let installations: InstallationService
    let inbox: InboxService
    let events: EventsService
    /// Changes admitted to the lane and not finished, for local reads.
    let admitted: LocalChanges
    private let lane: CallLane
    private let clock: WallClock
    private let logger: Logger

    init(
        configuration: Configuration, state: LocalState, tokens: UserDataTokens, lane: CallLane, environment: SessionEnvironment,
        logger: Logger
    ) {
        let backend = Backend(
            configuration: configuration, api: Self.client(configuration, state: state, transport: environment.transport),
            defaultRetryPolicy: environment.defaultRetryPolicy)
        let authentication = Authentication(tokens: tokens, backend: backend, clock: environment.clock, logger: logger, emit: state.emit)
        let records = RecordSync(backend: backend, state: state, authentication: authentication, clock: environment.clock, logger: logger)
        let events = EventsService(backend: backend, state: state, lane: lane, environment: environment, logger: logger)
        let delivery = SyncDelivery(
            backend: backend, state: state, authentication: authentication, records: records, events: events, lane: lane,
            environment: environment, logger: logger)
        let registration = Registration(backend: backend, state: state, logger: logger) {
            delivery.scheduleRetry(after: .zero)
            events.kick()
        }
        let admitted = LocalChanges()
        self.backend = backend
        self.state = state
        self.authentication = authentication
        self.delivery = delivery
        self.events = events
        self.registration = registration
        self.admitted = admitted
        self.lane = lane
        self.clock = environment.clock
        self.logger = logger
        let parts = CallParts(
            backend: backend, state: state, authentication: authentication, registration: registration, delivery: delivery,
            records: records, events: events, admitted: admitted, logger: logger)
        users = UserService(parts)
        installations = InstallationService(parts)
        inbox = InboxService(parts, clock: environment.clock)
        authentication.notify(delivery)
    }

    /// A repeated `init` for the same application: the new settings apply from now on.
    func reconfigure(_ configuration: Configuration, environment: SessionEnvironment) {
        backend.reconfigure(
            configuration, api: Self.client(configuration, state: state, transport: environment.transport),
            defaultRetryPolicy: environment.defaultRetryPolicy)
    }

    /// The client for `configuration`, starting from where the service moved this
    /// application when that was learned under the same `backendBaseURL`.
    private static func client(_ configuration: Configuration, state: LocalState, transport: any HTTPTransport) -> MobileAPIClient {
        let learned = state.route.flatMap { $0.configured == configuration.backendBaseURL ? $0 : nil }
        let route = BaseURLSource(learned ?? BaseURLRoute(configured: configuration.backendBaseURL))
        return MobileAPIClient(configuration: configuration, transport: transport, route: route)
    }

    /// What an `init` starts: the daily base URL check, the first registration, and
    /// delivery of what the queue and the held custom events still hold.
    func start() {
        checkBaseURLIfDue()
        registration.startIfNeeded()
        delivery.scheduleRetry(after: .zero)
        events.kick()
    }

    /// Ends this generation (see the type).
    func end(_ reason: String) {
        registration.end(reason)
        delivery.end()
        events.end()
        state.close()
    }

    // MARK: The dynamic base URL

    /// Persists the route when a response moved it (or a host-not-found moved it back).
    func keepRoute() {
        state.keep(backend.api.route.snapshot)
    }

    /// With the production base URL, asks `GET /mobile/1/baseurl` once a day, on the
    /// lane, without holding up `init` (both SDKs do it at start).
    private func checkBaseURLIfDue() {
        let api = backend.api
        guard api.route.snapshot.needsCheck(now: clock.now) else { return }
        lane.admitBackground("baseURLCheck") { [self] in
            do throws(MobileMessagingError) {
                let answer = try await api.fetchBaseURL()
                guard !state.isClosed else { return }
                if let answer { api.route.follow(answer) }
                // Checked: not again for a day, whatever it said (an error tries again next start).
                api.route.checked(at: clock.now)
                keepRoute()
            } catch {
                logger.debug("the base URL check failed; tried again at the next start", metadata: ["code": .string(error.code)])
            }
        }
    }
}
