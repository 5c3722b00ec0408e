import JSON
import Logging

/// What this installation knows, as `state.json` holds it: the application code, the
/// installation and the user as the server last sent them, where the service moved the
/// application, and the durable sync queue; with it, the custom events held for delivery
/// (``HeldEvents``, their own file). Every change is written here, by the method
/// that makes it; events announcing a stored change are emitted after the write.
///
/// One instance per generation of the session's state. A `cleanup`, an `init` for
/// another application or a shutdown *closes* it: a call still in flight that finishes
/// later writes nothing and announces nothing, so it cannot bring wiped data back.
@EngineActor
final class LocalState {
    private var store: StateStore?
    private var document: PersistedState
    private(set) var queue: SyncQueue
    /// The custom events held for delivery, in their own file (`events.json`).
    let heldEvents: HeldEvents
    private let events: any EventSink
    private let logger: Logger
    /// `userDataPersistingDisabled` keeps the user (and queued user changes) off the disk.
    private var persistsUser = true

    init(store: StateStore, document: PersistedState, heldEvents: HeldEvents, events: any EventSink, logger: Logger) {
        self.store = store
        self.heldEvents = heldEvents
        var document = document
        // Entries of kinds a newer version wrote stay in the file; their ids stay taken.
        queue = SyncQueue(
            document.pendingChanges, reservedIDs: Set(document.unrecognizedPendingChanges.compactMap { $0["id"]?.stringValue }))
        document.pendingChanges = []
        self.document = document
        self.events = events
        self.logger = logger
    }

    /// Closes this generation and opens the next, empty, on the same store (nothing is
    /// written until ``configure(applicationCode:persistsUser:)`` claims it); `nil` when
    /// this one was already closed.
    func wiped() -> LocalState? {
        guard let store else { return nil }
        // Before closing: the held events are dropped from their file too.
        let freshEvents = heldEvents.wiped()
        close()
        return LocalState(store: store, document: PersistedState(), heldEvents: freshEvents, events: events, logger: logger)
    }

    /// Ends this generation: later writes and events are dropped.
    func close() {
        store = nil
        heldEvents.close()
    }

    var isClosed: Bool { store == nil }

    // MARK: Reading

    var applicationCode: String? { document.applicationCode }
    var installation: Installation? { document.installation }
    var user: UserData? { document.user }
    var route: BaseURLRoute? { document.route }
    /// This installation's id, once registered.
    var ownID: String? { document.installation?.pushRegistrationId }

    // MARK: Writing

    /// Claims the application code for a fresh state and applies the persisting setting;
    /// written before the session counts as initialized, so a failure leaves it not.
    func configure(applicationCode: String, persistsUser: Bool) throws(MobileMessagingError) {
        var changed = false
        if document.applicationCode == nil {
            document.applicationCode = applicationCode
            changed = true
        }
        // A user written before the setting was turned on must leave the file.
        if !persistsUser && document.user != nil { changed = true }
        self.persistsUser = persistsUser
        if changed { try write(.synced) }
    }

    /// Writes the state, or throws when it could not be.
    func write(_ durability: StateStore.Durability) throws(MobileMessagingError) {
        guard let store else { return }
        var snapshot = document
        snapshot.pendingChanges = queue.changes
        try store.save(snapshot, includeUser: persistsUser, durability: durability)
    }

    /// Writes a copy of what the server holds; a failure is logged, not thrown: the
    /// server already accepted the change, and the next write will carry it.
    func persist() {
        do throws(MobileMessagingError) {
            try write(.ordered)
        } catch {
            logger.error("the state could not be written", metadata: ["description": .string(error.description)])
        }
    }

    /// Makes every write so far durable; for shutdown.
    func flush() throws(MobileMessagingError) {
        try store?.flush()
    }

    /// Keeps `user` as the server's copy; emits `event` when it changed (or `always`).
    func adopt(_ user: UserData, announcing event: MobileMessagingEvent.Name, always: Bool = false) {
        guard !isClosed else { return }
        let changed = document.user != user
        document.user = user
        if changed { persist() }
        if changed || always { emit(event, user.wrapperJSON) }
    }

    /// Keeps `installation` as the server's copy of this installation; emits
    /// `installationUpdated` when it changed (or `always`).
    func adopt(_ installation: Installation, always: Bool = false) {
        guard !isClosed else { return }
        let changed = document.installation != installation
        document.installation = installation
        if changed { persist() }
        if changed || always { emit(.installationUpdated, installation.wrapperJSON) }
    }

    /// The first registration finished: the installation the server created.
    func register(_ installation: Installation) {
        guard !isClosed else { return }
        document.installation = installation
        persist()
        emit(.registrationUpdated, .string(installation.pushRegistrationId ?? ""))
    }

    /// Replaces the local user without an event (a local estimate of the person's
    /// installations when the server cannot be asked).
    func replaceUser(_ user: UserData) {
        guard !isClosed else { return }
        document.user = user
        persist()
    }

    /// The person left this installation (the server said so, or it is queued to).
    func forgetUser(announce: Bool) {
        guard !isClosed else { return }
        document.user = nil
        persist()
        if announce { emit(.depersonalized, .null) }
    }

    /// A `depersonalize` ended the person's session here: the installation fields that
    /// were theirs go too.
    func clearPersonalInstallationFields() {
        guard !isClosed, var installation = document.installation,
            installation.customAttributes != nil || installation.isPrimaryDevice == true
        else { return }
        installation.customAttributes = nil
        installation.isPrimaryDevice = false
        document.installation = installation
        persist()
    }

    /// Persists where the service moved this application, so a restart keeps talking
    /// to it.
    func keep(_ route: BaseURLRoute) {
        guard !isClosed, route != (document.route ?? BaseURLRoute(configured: route.configured)) else { return }
        if route.current != document.route?.current ?? route.configured {
            logger.notice("the Mobile API moved this application", metadata: ["baseURL": .string(route.current)])
        }
        document.route = route
        persist()
    }

    func emit(_ name: MobileMessagingEvent.Name, _ payload: JSONValue) {
        guard !isClosed else { return }
        logger.debug("event", metadata: ["eventName": .string(name.rawValue)])
        events.emit(MobileMessagingEvent(name: name, payload: payload))
    }

    // MARK: The sync queue

    /// Keeps a change durably (merged per ``SyncQueue`` rules) before the caller is
    /// answered; a queued depersonalize forgets the local user at once.
    ///
    /// - Throws: when the state cannot be written (or this generation is over): nothing
    ///   is kept.
    func enqueue(_ kind: PendingChange.Kind, own: String, body: JSONObject?, now: Double, nextAttemptAt: Double)
        throws(MobileMessagingError)
    {
        guard !isClosed else { throw .notInitialized }
        let previous = (document, queue)
        queue.enqueue(kind, own: own, body: body, now: now, nextAttemptAt: nextAttemptAt)
        if kind == .depersonalize { document.user = nil }
        do throws(MobileMessagingError) {
            try write(.synced)
        } catch {
            (document, queue) = previous
            throw error
        }
    }

    /// Changes the queue without writing; the caller persists when the change must be
    /// on disk (advisory bookkeeping such as attempt counts waits for the next write).
    @discardableResult
    func updateQueue<T>(_ change: (inout SyncQueue) -> T) -> T {
        change(&queue)
    }
}
