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
/// The session holds the provider; asking it before a JWT call and once after a
/// rejection (then retrying the call once) is built on this seam by a later change.
public protocol TokenProvider: Sendable {
    /// A token, or `nil` when the wrapper has none (the original error then stands).
    func requestToken(reason: TokenRequestReason, externalUserId: String?) async -> String?
}
