import Logging

/// The user-data JWT in force and the wrapper that may be asked for a new one. Lives as
/// long as the session: a token survives a new generation of the state (only `cleanup`
/// and a completed `depersonalize` drop it).
@EngineActor
final class UserDataTokens {
    private(set) var source = UserDataTokenSource()
    /// The opt-in pull model (`userDataJwtProvider`); `nil` when the host has none.
    let flight: TokenRequestFlight?

    nonisolated init(provider: (any TokenProvider)?) {
        flight = provider.map(TokenRequestFlight.init(provider:))
    }

    var token: String? { source.token }
    var summary: String { source.summary }
    /// Counts changes, so a call can tell whether the token was set since it was admitted.
    var generation: Int { source.generation }

    /// Sets the token; returns whether a new one (not a cleared one) arrived.
    @discardableResult
    func set(_ token: String?) -> Bool {
        source.set(token) && source.token != nil
    }
}
