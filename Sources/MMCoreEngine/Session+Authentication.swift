import JSON
import Logging
import UserDataJWT

// MARK: - The user-data JWT: checks, the provider, and the auth-failure budget

extension Session {
    var providerEnabled: Bool { configuration?.userDataJwtProvider == true && tokenRequests != nil }

    /// At admission of a JWT call: fails fast while paused, and (without the provider)
    /// runs the client-side token checks so a bad token is reported at once, with
    /// nothing queued or sent.
    func preflightJWTCall() throws(MobileMessagingError) {
        try authentication.check()
        if !providerEnabled { _ = try validatedToken() }
    }

    /// The token a JWT call goes out with, read when it is sent (a `setUserDataJwt` made
    /// while it waited applies). With the provider, a missing token or one expiring
    /// within the leeway is requested first; without an answer the call goes on as it
    /// would have (`App` for none, `JWT_TOKEN_EXPIRED` for an expired one).
    func tokenForCall(_ method: String, externalUserId: String?) async throws(MobileMessagingError) -> String? {
        try authentication.check()
        if providerEnabled, let configuration {
            if tokens.token == nil {
                _ = await requestTokenFromProvider(.missing, externalUserId: externalUserId)
            } else if tokens.expires(within: configuration.userDataJwtProviderLeewaySeconds, now: clock.now) {
                _ = await requestTokenFromProvider(.expired, externalUserId: externalUserId)
            }
            try authentication.check()
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
            return try tokens.validated(now: clock.now)
        } catch {
            logger.notice(
                "the user-data JWT was refused on the client; no request sent",
                metadata: ["code": .string(error.code.rawValue), "token": .string(tokens.summary)])
            throw .jwt(error)
        }
    }

    /// Asks the wrapper for a token (`requestUserDataJwt`, one request for concurrent
    /// needs, bounded by `userDataJwtProviderTimeoutSeconds`). A usable answer becomes
    /// the session's token (as `setUserDataJwt` would) and is returned.
    func requestTokenFromProvider(_ reason: TokenRequestReason, externalUserId: String?) async -> String? {
        guard providerEnabled, let tokenRequests, let configuration else { return nil }
        logger.debug("asking the wrapper for a user-data JWT", metadata: ["reason": .string(reason.rawValue)])
        let timeout = Duration.milliseconds(Int64(configuration.userDataJwtProviderTimeoutSeconds * 1000))
        let answer = await tokenRequests.request(reason: reason, externalUserId: externalUserId, timeout: timeout)
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

    /// A new token ends what the old one caused: the failure count, the pause, and
    /// queued changes waiting for a token, which are retried now.
    func newTokenArrived() {
        let wasBlocked = authentication.isPaused || !queue.awaitingToken.isEmpty
        authentication.reset()
        queue.tokenArrived()
        if wasBlocked {
            pendingRetryTask?.cancel()
            pendingRetryTask = nil
        }
        schedulePendingWork(after: .zero)
    }

    private func recordAuthenticationFailure(_ error: MobileMessagingError, method: String) {
        let pausedNow = authentication.recordFailure()
        logger.notice(
            "the server refused the credentials",
            metadata: [
                "method": .string(method), "code": .string(error.code),
                "consecutive": .stringConvertible(authentication.consecutiveFailures),
            ])
        emit(.authenticationError, ["code": .string(error.code), "description": .string(error.description), "method": .string(method)])
        guard pausedNow else { return }
        let paused = MobileMessagingError.authenticationPaused(authentication.consecutiveFailures)
        logger.warning("authentication paused: background sync of user data stops until a new token or the next session")
        emit(.authenticationError, ["code": .string(paused.code), "description": .string(paused.description), "method": .string(method)])
    }

    /// Runs a request that may carry the JWT. When the server refuses the credentials
    /// (401 or `ACCESS_TOKEN_*`): counts the failure, emits `authenticationError`, and,
    /// with the provider, asks for a new token and retries once with it; else rethrows
    /// (never a retry with the same token). A success resets the failure count.
    func userRequest<T>(
        _ method: String, token: String?, externalUserId: String?, _ request: (String?) async throws(MobileMessagingError) -> T
    ) async throws(MobileMessagingError) -> T {
        do throws(MobileMessagingError) {
            let result = try await request(token)
            authentication.recordSuccess()
            return result
        } catch {
            guard error.isAuthenticationRejection else { throw error }
            recordAuthenticationFailure(error, method: method)
            guard !authentication.isPaused,
                let fresh = await requestTokenFromProvider(.rejected, externalUserId: externalUserId), fresh != token
            else { throw error }
            do throws(MobileMessagingError) {
                let result = try await request(fresh)
                authentication.recordSuccess()
                return result
            } catch {
                if error.isAuthenticationRejection { recordAuthenticationFailure(error, method: method) }
                throw error
            }
        }
    }
}
