import Logging

/// The parts a call's step works with, handed together to the services that run the
/// calls (``UserService``, ``InstallationService``): one generation's wiring, stated once.
@EngineActor
struct CallParts {
    let backend: Backend
    let state: LocalState
    let authentication: Authentication
    let registration: Registration
    let delivery: SyncDelivery
    let records: RecordSync
    /// Custom events, sent before a person change.
    let events: EventsService
    /// Changes admitted to the lane and not finished, for local reads.
    let admitted: LocalChanges
    let logger: Logger
}
