import JSON
import Testing

@testable import MMCoreEngine

/// The auth-failure rules: no retry of a token-refused change before a new token; a pause
/// after 10 consecutive failures until a new token or session; a success resets the
/// count; depersonalize deletes changes failing for their token.
@Suite struct AuthenticationRulesTests {
    /// Refuses user endpoints with 401 while `refusing` is set.
    static func refuseUserCalls(_ api: FakeMobileAPI, while refusing: Locked<Bool>) {
        api.setHook { request in
            guard refusing.current, request.path.hasSuffix("/user") || request.path.hasSuffix("/personalize") else { return nil }
            return FakeMobileAPI.error(401, "ACCESS_TOKEN_INVALID", "Invalid access token")
        }
    }

    /// A registered session holding a token whose user calls the fake server refuses
    /// with 401 while `refusing` is on (it starts on).
    func sessionWithRefusedToken(_ harness: SessionHarness) async throws -> (session: Session, refusing: Locked<Bool>) {
        let session = try await harness.registeredSession(["userDataJwt": .string(TokenFactory.token())])
        let refusing = Locked(true)
        Self.refuseUserCalls(harness.api, while: refusing)
        return (session, refusing)
    }

    /// Ten refused `fetchUser` calls in a row: what pauses JWT calls.
    func refuseTenTimes(_ session: Session) async {
        for _ in 0..<10 { _ = await caughtError { try await session.fetchUser() } }
    }

    func userRequests(_ harness: SessionHarness, since: Int = 0) -> [RecordedRequest] {
        harness.api.requests(since: since).filter { $0.path.hasSuffix("/user") || $0.path.hasSuffix("/personalize") }
    }

    @Test func aQueuedChangeRefusedForItsTokenWaitsForANewToken() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(["userDataJwt": .string(TokenFactory.token())])
        _ = FaultSwitch.onUserPatches(of: harness.api, failing: .network)
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        let refusing = Locked(true)
        Self.refuseUserCalls(harness.api, while: refusing)  // back online, but the token is refused

        let event = await harness.events.wait(for: .authenticationError)
        #expect(event?.payload == ["code": "ACCESS_TOKEN_INVALID", "description": "Invalid access token", "method": "saveUser"])
        let before = harness.api.requestCount
        try await Task.sleep(for: .milliseconds(300))  // ~10 backoff periods
        #expect(userRequests(harness, since: before).isEmpty, "not retried with the same token")
        #expect(harness.stateFile?["pendingChanges"]?.arrayValue?.count == 1, "kept")

        refusing.withLock { $0 = false }
        try await session.setUserDataJwt(.string(TokenFactory.token(exp: TokenFactory.now + 600)))
        #expect(await harness.events.wait(for: .userUpdated) != nil)
        #expect(harness.api.store.current.users["reg-1"]?["firstName"] == "Ada")
        #expect(harness.stateFile?["pendingChanges"] == [])
        await harness.cleanUp(session)
    }

    @Test func tenConsecutiveFailuresPauseJWTCallsWithoutSending() async throws {
        let harness = SessionHarness()
        let (session, _) = try await sessionWithRefusedToken(harness)
        for _ in 0..<10 {
            #expect(await caughtError { try await session.fetchUser() }?.code == "ACCESS_TOKEN_INVALID")
        }
        let paused = harness.events.named(.authenticationError).last?.payload
        #expect(paused?["code"] == "AUTHENTICATION_PAUSED")
        #expect(paused?["method"] == "fetchUser")
        #expect(harness.events.named(.authenticationError).count == 11)

        let before = harness.api.requestCount
        for call in ["saveUser", "fetchUser", "personalize"] {
            let error = await caughtError { () async throws -> JSONValue in
                switch call {
                case "saveUser": try await session.saveUser(["firstName": "Ada"])
                case "fetchUser": try await session.fetchUser()
                default: try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
                }
            }
            #expect(error?.code == "AUTHENTICATION_PAUSED", "\(call)")
            #expect(error?.numericCode == 1103)
        }
        #expect(harness.api.requestCount == before, "no request sent while paused")
        // App-authorized calls are not affected.
        _ = try await session.saveInstallation(["deviceName": "Phone"])
        await harness.cleanUp(session)
    }

    @Test func aSuccessResetsTheCount() async throws {
        let harness = SessionHarness()
        let (session, refusing) = try await sessionWithRefusedToken(harness)
        for _ in 0..<9 { _ = await caughtError { try await session.fetchUser() } }
        refusing.withLock { $0 = false }
        _ = try await session.fetchUser()
        refusing.withLock { $0 = true }
        for _ in 0..<9 {
            #expect(await caughtError { try await session.fetchUser() }?.code == "ACCESS_TOKEN_INVALID")
        }
        #expect(!harness.events.named(.authenticationError).contains { $0.payload["code"] == "AUTHENTICATION_PAUSED" })
        await harness.cleanUp(session)
    }

    @Test func aNewTokenEndsThePause() async throws {
        let harness = SessionHarness()
        let (session, refusing) = try await sessionWithRefusedToken(harness)
        await refuseTenTimes(session)
        #expect(await caughtError { try await session.fetchUser() }?.code == "AUTHENTICATION_PAUSED")
        // The same token again is not a new one.
        try await session.setUserDataJwt(.string(TokenFactory.token()))
        #expect(await caughtError { try await session.fetchUser() }?.code == "AUTHENTICATION_PAUSED")
        refusing.withLock { $0 = false }
        try await session.setUserDataJwt(.string(TokenFactory.token(sub: "ada", exp: TokenFactory.now + 900)))
        _ = try await session.fetchUser()
        await harness.cleanUp(session)
    }

    @Test func theNextSessionEndsThePause() async throws {
        let harness = SessionHarness()
        let (first, refusing) = try await sessionWithRefusedToken(harness)
        await refuseTenTimes(first)
        #expect(await caughtError { try await first.fetchUser() }?.code == "AUTHENTICATION_PAUSED")
        await first.shutdown()

        refusing.withLock { $0 = false }
        let second = harness.makeSession()
        try await second.initialize(harness.configuration(["userDataJwt": .string(TokenFactory.token())]))
        _ = try await second.fetchUser()
        await harness.cleanUp(second)
    }

    @Test func depersonalizeDeletesAChangeFailingForItsToken() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(["userDataJwt": .string(TokenFactory.token())])
        _ = FaultSwitch.onUserPatches(of: harness.api, failing: .network)
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        Self.refuseUserCalls(harness.api, while: Locked(true))
        #expect(await harness.events.wait(for: .authenticationError) != nil)

        let before = harness.api.requestCount
        #expect(try await session.depersonalize() == "success")
        #expect(harness.stateFile?["pendingChanges"] == [], "deleted, not retried")
        #expect(harness.api.requests(since: before).map(\.summary) == ["POST /mobile/1/appinstance/reg-1/depersonalize"])
        let deleted = harness.events.named(.authenticationError).last?.payload
        #expect(deleted?["method"] == "depersonalize")
        #expect(deleted?["code"] == "ACCESS_TOKEN_INVALID")
        // A new token later has nothing left to deliver.
        try await session.setUserDataJwt(.string(TokenFactory.token(exp: TokenFactory.now + 900)))
        try await Task.sleep(for: .milliseconds(100))
        #expect(harness.api.requests(since: before).filter(\.isUserPatch).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func depersonalizeDeletesAChangeWhoseTokenExpiredWhileQueued() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(
            ["userDataJwt": .string(TokenFactory.token(exp: TokenFactory.now + 60))], retryPolicy: SessionHarness.slowRetries)
        let fault = FaultSwitch.onUserPatches(of: harness.api, failing: .network)
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        fault.set(nil)
        harness.clock.advance(120)  // the token expires while the change waits

        let before = harness.api.requestCount
        #expect(try await session.depersonalize() == "success")
        #expect(harness.stateFile?["pendingChanges"] == [])
        #expect(harness.api.requests(since: before).map(\.summary) == ["POST /mobile/1/appinstance/reg-1/depersonalize"])
        #expect(harness.events.named(.authenticationError).last?.payload["code"] == "JWT_TOKEN_EXPIRED")
        await harness.cleanUp(session)
    }
}
