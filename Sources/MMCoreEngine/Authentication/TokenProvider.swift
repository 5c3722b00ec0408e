/// Why the core asks for a user-data JWT.
public enum TokenRequestReason: String, Sendable {
    /// A call needs a token and none is set.
    case missing
    /// The token set expires within the configured leeway (or already has).
    case expired
    /// The server refused the token set.
    case rejected
}

/// Supplies a fresh user-data JWT on request: the opt-in pull model
/// (`userDataJwtProvider: true`), where the executable forwards the request to the
/// wrapper as a `requestUserDataJwt` JSON-RPC request.
///
/// The session asks it before a JWT call (token missing or expiring within the leeway)
/// and once after the server rejects the token (then retries the call once); concurrent
/// needs share one request and the session bounds the wait itself, so an implementation
/// need not handle either.
public protocol TokenProvider: Sendable {
    /// A token, or `nil` when the wrapper has none (the original error then stands).
    func requestToken(reason: TokenRequestReason, externalUserId: String?) async -> String?
}
