/// Where a session stands: one value, so "is there a configuration, a store, a loaded
/// state" is one question with one answer.
@EngineActor
enum Lifecycle {
    /// Before the first `init`, and after shutdown: no state directory is held.
    case unopened
    /// The state directory is locked, but its state could not be loaded (a corrupt file
    /// was moved aside): the next `init` loads again.
    case opened(StateStore)
    /// The state is loaded; no configuration is in force (an `init` failed, or `cleanup`
    /// stopped the session). Every call but `init` answers `NOT_INITIALIZED`.
    case stopped(LocalState)
    /// Configured: calls are served by the services of the current generation.
    case running(SessionServices)

    var services: SessionServices? {
        if case .running(let services) = self { services } else { nil }
    }

    /// The loaded state, whether configured or not.
    var state: LocalState? {
        switch self {
        case .unopened, .opened: nil
        case .stopped(let state): state
        case .running(let services): services.state
        }
    }
}
