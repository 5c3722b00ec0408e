import JSON
import Testing

@testable import MMCoreEngine

/// A provider that records each request and answers with `answer` after `delay`.
final class FakeTokenProvider: TokenProvider {
    let calls = Locked<[(reason: TokenRequestReason, externalUserId: String?)]>([])
    let answer: Locked<String?>
    let delay: Duration

    init(answer: String?, delay: Duration = .zero) {
        self.answer = Locked(answer)
        self.delay = delay
    }

    func requestToken(reason: TokenRequestReason, externalUserId: String?) async -> String? {
        calls.withLock { $0.append((reason, externalUserId)) }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return answer.current
    }

    var reasons: [TokenRequestReason] { calls.current.map(\.reason) }
}

@Suite struct TokenProviderTests {
    static let fresh = TokenFactory.token(exp: TokenFactory.now + 3600)
    static let provider: JSONObject = ["userDataJwtProvider": true]

    func bearer(_ request: RecordedRequest?) -> String? {
        request?.authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
    }

    @Test func aMissingTokenIsRequested() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh)
        let session = try await harness.registeredSession(Self.provider, tokenProvider: provider)
        _ = try await session.saveUser(["firstName": "Ada"])
        #expect(provider.reasons == [.missing])
        #expect(bearer(harness.api.requests.first(where: \.isUserPatch)) == Self.fresh)
        await harness.cleanUp(session)
    }

    @Test func aTokenExpiringWithinTheLeewayIsRenewedFirst() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh)
        let soon = TokenFactory.token(exp: TokenFactory.now + 10)  // within the default 30 s
        let session = try await harness.registeredSession(
            Self.provider.merging(["userDataJwt": .string(soon)]), tokenProvider: provider)
        _ = try await session.fetchUser()
        #expect(provider.reasons == [.expired])
        #expect(bearer(harness.api.requests.last) == Self.fresh)
        await harness.cleanUp(session)
    }

    @Test func aTokenOutsideTheLeewayIsUsedAsIs() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh)
        let later = TokenFactory.token(exp: TokenFactory.now + 120)
        let session = try await harness.registeredSession(
            Self.provider.merging(["userDataJwt": .string(later)]), tokenProvider: provider)
        _ = try await session.fetchUser()
        #expect(provider.reasons.isEmpty)
        #expect(bearer(harness.api.requests.last) == later)
        await harness.cleanUp(session)
    }

    @Test func aRejectedTokenIsReplacedAndTheCallRetriedOnce() async throws {
        let harness = SessionHarness()
        let old = TokenFactory.token(exp: TokenFactory.now + 600)
        let provider = FakeTokenProvider(answer: Self.fresh)
        let session = try await harness.registeredSession(
            Self.provider.merging(["userDataJwt": .string(old)]), tokenProvider: provider)
        harness.api.setHook { request in
            request.authorization == "Bearer \(old)" ? FakeMobileAPI.error(401, "ACCESS_TOKEN_INVALID", "Invalid") : nil
        }
        let user = try await session.saveUser(["firstName": "Ada"])
        #expect(user["firstName"] == "Ada")
        #expect(provider.reasons == [.rejected])
        #expect(harness.api.requests.filter(\.isUserPatch).map { bearer($0) } == [old, Self.fresh])
        #expect(harness.events.named(.authenticationError).count == 1)
        await harness.cleanUp(session)
    }

    @Test func theRetryHappensOnlyOnce() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh)
        let session = try await harness.registeredSession(
            Self.provider.merging(["userDataJwt": .string(TokenFactory.token(exp: TokenFactory.now + 600))]), tokenProvider: provider)
        harness.api.setHook { request in
            request.path.hasSuffix("/user") ? FakeMobileAPI.error(401, "ACCESS_TOKEN_INVALID", "Invalid") : nil
        }
        let error = await caughtError { try await session.fetchUser() }
        #expect(error?.code == "ACCESS_TOKEN_INVALID")
        #expect(provider.reasons == [.rejected])
        #expect(harness.api.requests.filter { $0.path.hasSuffix("/user") }.count == 2)
        await harness.cleanUp(session)
    }

    @Test func aNullAnswerGivesTheOriginalError() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: nil)
        let session = try await harness.registeredSession(
            Self.provider.merging(["userDataJwt": .string(TokenFactory.expired)]), tokenProvider: provider)
        let before = harness.api.requestCount
        let error = await caughtError { try await session.fetchUser() }
        #expect(error?.code == "JWT_TOKEN_EXPIRED")
        #expect(error?.description == "The provided JWT is expired.")
        #expect(provider.reasons == [.expired])
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func aSilentProviderTimesOutWithTheOriginalError() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh, delay: .seconds(60))
        let session = try await harness.registeredSession(
            Self.provider.merging(["userDataJwt": .string(TokenFactory.expired), "userDataJwtProviderTimeoutSeconds": 0.2]),
            tokenProvider: provider)
        let start = ContinuousClock.now
        let error = await caughtError { try await session.fetchUser() }
        #expect(error?.code == "JWT_TOKEN_EXPIRED")
        // Loose: a loaded machine can be seconds late, but never the provider's 60 s.
        #expect(ContinuousClock.now - start < .seconds(30), "bounded by 0.2 s, not the provider's 60 s")
        await harness.cleanUp(session)
    }

    @Test func fiftyConcurrentCallsShareOneProviderRequest() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh, delay: .milliseconds(200))
        let session = try await harness.registeredSession(Self.provider, tokenProvider: provider)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { (try? await session.fetchUser()) != nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 50 && results.allSatisfy { $0 })
        #expect(provider.calls.current.count == 1)
        #expect(harness.api.requests.filter { $0.path.hasSuffix("/user") }.allSatisfy { bearer($0) == Self.fresh })
        await harness.cleanUp(session)
    }

    @Test func withoutTheFlagTheProviderIsNeverAsked() async throws {
        let harness = SessionHarness()
        let provider = FakeTokenProvider(answer: Self.fresh)
        let session = try await harness.registeredSession(["userDataJwt": .string(TokenFactory.expired)], tokenProvider: provider)
        #expect(await caughtError { try await session.fetchUser() }?.code == "JWT_TOKEN_EXPIRED")
        try await session.setUserDataJwt(.null)
        _ = try await session.fetchUser()
        harness.api.setHook { request in
            request.path.hasSuffix("/user") ? FakeMobileAPI.error(401, "ACCESS_TOKEN_MISSING", "Missing") : nil
        }
        _ = await caughtError { try await session.fetchUser() }
        #expect(provider.calls.current.isEmpty)
        await harness.cleanUp(session)
    }
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for member in other { result[member.key] = member.value }
        return result
    }
}
