import JSON
import Logging
import UserDataJWT

/// Someone to tell when a new user-data JWT arrives: what waited for one may go now.
@EngineActor
protocol NewTokenObserver: AnyObject {
    func newTokenArrived(afterRefusals: Bool)
}

/// The user-data JWT on its way out: the client-side checks before anything is sent,
/// the opt-in provider, and the auth-failure budget (no blind retries).
///
/// One per generation of the session's state (a new one starts with a fresh budget);
/// the token itself lives in ``UserDataTokens``, which outlives it.
@EngineActor
final class Authentication {
    private let tokens: UserDataTokens
    private let backend: Backend
    private let clock: WallClock
    private let emit: (MobileMessagingEvent.Name, JSONValue) -> Void
    private let logger: Logger
    private var gate = AuthenticationGate()
    private weak var observer: (any NewTokenObserver)?

    init(
        tokens: UserDataTokens, backend: Backend, clock: WallClock, logger: Logger,
        emit: @escaping (MobileMessagingEvent.Name, JSONValue) -> Void
    ) {
        self.tokens = tokens
        self.backend = backend
        self.clock = clock
        self.logger = logger
        self.emit = emit
    }

    /// Who hears of new tokens (the sync delivery, whose queued changes may wait for one).
    func notify(_ observer: any NewTokenObserver) { self.observer = observer }

    var isPaused: Bool { gate.isPaused }
    var token: String? { tokens.token }
    var tokenGeneration: Int { tokens.generation }

    private var providerEnabled: Bool { backend.configuration.userDataJwtProvider && tokens.flight != nil }

    // MARK: Setting

    /// `setUserDataJwt` (or the configuration's token): kept, checked when used.
    func set(_ jwt: String?) {
        if tokens.set(jwt) { newTokenArrived() }
    }

    /// Drops the token (a completed `depersonalize`), unless another was set since
    /// `generation`: that one belongs to the next person.
    func drop(ifStill generation: Int) {
        if tokens.generation == generation { tokens.set(nil) }
    }

    /// A new token ends what the old one caused: the failure count, the pause, and
    /// queued changes waiting for a token, which are retried now.
    private func newTokenArrived() {
        let wasPaused = gate.isPaused
        gate.reset()
        observer?.newTokenArrived(afterRefusals: wasPaused)
    }

    // MARK: Checks before sending

    /// At admission of a JWT call: fails fast while paused, and (without the provider)
    /// runs the client-side token checks so a bad token is reported at once, with
    /// nothing queued or sent.
    func preflight() throws(MobileMessagingError) {
        try gate.check()
        if !providerEnabled { _ = try validatedToken() }
    }

    /// The token a JWT call goes out with, read when it is sent (a `setUserDataJwt` made
    /// while it waited applies). With the provider, a missing token or one expiring
    /// within the leeway is requested first; without an answer the call goes on as it
    /// would have (`App` for none, `JWT_TOKEN_EXPIRED` for an expired one).
    func tokenForCall(externalUserId: String?) async throws(MobileMessagingError) -> String? {
        try gate.check()
        if providerEnabled {
            if tokens.token == nil {
                _ = await requestFromProvider(.missing, externalUserId: externalUserId)
            } else if tokens.source.expires(within: backend.configuration.userDataJwtProviderLeewaySeconds, now: clock.now) {
                _ = await requestFromProvider(.expired, externalUserId: externalUserId)
            }
            try gate.check()
        }
        return try validatedToken()
    }

    /// The token after the client-side checks, or `nil` when none is set (the call then
    /// goes out with `App`).
    ///
    /// - Throws: `JWT_TOKEN_STRUCTURE_INVALID` / `JWT_TOKEN_EXPIRED` with the wrappers'
    ///   exact descriptions; the caller then sends nothing.
    func validatedToken() throws(MobileMessagingError) -> String? {
        do throws(UserDataJWTError) {
            return try tokens.source.validated(now: clock.now)
        } catch {
            logger.notice(
                "the user-data JWT was refused on the client; no request sent",
                metadata: ["code": .string(error.code.rawValue), "token": .string(tokens.summary)])
            throw .jwt(error)
        }
    }

    /// The token for a read that may go without one: the token when it passes the
    /// checks, `.some(nil)` when none is set, `nil` when the one set fails them.
    var tokenForOptionalRead: String?? {
        guard tokens.token != nil else { return .some(nil) }
        return (try? tokens.source.validated(now: clock.now)).map { .some($0) } ?? nil
    }

    /// Asks the wrapper for a token (`requestUserDataJwt`, one request for concurrent
    /// needs, bounded by `userDataJwtProviderTimeoutSeconds`). A usable answer becomes
    /// the session's token (as `setUserDataJwt` would) and is returned.
    private func requestFromProvider(_ reason: TokenRequestReason, externalUserId: String?) async -> String? {
        guard providerEnabled, let flight = tokens.flight else { return nil }
        logger.debug("asking the wrapper for a user-data JWT", metadata: ["reason": .string(reason.rawValue)])
        let timeout = Duration.milliseconds(Int64(backend.configuration.userDataJwtProviderTimeoutSeconds * 1000))
        let answer = await flight.request(reason: reason, externalUserId: externalUserId, timeout: timeout)
        guard let answer, !answer.isEmpty else {
            logger.notice("the wrapper gave no user-data JWT")
            return nil
        }
        guard UserDataTokenSource.isUsable(answer, now: clock.now) else {
            logger.notice("the wrapper's token fails the client-side checks; not used", metadata: ["token": .string(Redaction.summary(of: answer))])
            return nil
        }
        if tokens.set(answer) {
            logger.debug("userDataJwt set by the provider", metadata: ["token": .string(tokens.summary)])
            newTokenArrived()
        }
        return answer
    }

    // MARK: Sending

    /// Runs a request that may carry the JWT. When the server refuses the credentials
    /// (401 or `ACCESS_TOKEN_*`): counts the failure, emits `authenticationError`, and,
    /// with the provider, asks for a new token and retries once with it; else rethrows
    /// (never a retry with the same token). A success resets the failure count.
    func send<T>(
        _ call: Call, token: String?, externalUserId: String?, _ request: (String?) async throws(MobileMessagingError) -> T
    ) async throws(MobileMessagingError) -> T {
        do throws(MobileMessagingError) {
            let result = try await request(token)
            gate.recordSuccess()
            return result
        } catch {
            guard error.isAuthenticationRejection else { throw error }
            recordFailure(error, call: call)
            guard !gate.isPaused,
                let fresh = await requestFromProvider(.rejected, externalUserId: externalUserId), fresh != token
            else { throw error }
            do throws(MobileMessagingError) {
                let result = try await request(fresh)
                gate.recordSuccess()
                return result
            } catch {
                if error.isAuthenticationRejection { recordFailure(error, call: call) }
                throw error
            }
        }
    }

    private func recordFailure(_ error: MobileMessagingError, call: Call) {
        let pausedNow = gate.recordFailure()
        logger.notice(
            "the server refused the credentials",
            metadata: [
                "method": .string(call.rawValue), "code": .string(error.code),
                "consecutive": .stringConvertible(gate.consecutiveFailures),
            ])
        emit(.authenticationError, ["code": .string(error.code), "description": .string(error.description), "method": .string(call.rawValue)])
        guard pausedNow else { return }
        let paused = MobileMessagingError.authenticationPaused(gate.consecutiveFailures)
        logger.warning("authentication paused: background sync of user data stops until a new token or the next session")
        emit(.authenticationError, ["code": .string(paused.code), "description": .string(paused.description), "method": .string(call.rawValue)])
    }
}
