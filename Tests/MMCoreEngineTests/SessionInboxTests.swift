import JSON
import Testing

import JSONRPC
import MMCoreBridge

@testable import MMCoreEngine

extension Session {
    /// Admits `calls` in one go, in this order.
    func admitInOrder(_ calls: [any BridgeMethod]) throws -> [Admission] { try calls.map { try $0.admit(on: self) } }

    func fetchInboxMessages(token: JSONValue, externalUserId: JSONValue, filterOptions: JSONValue? = nil) async throws -> JSONValue {
        var arguments: JSONObject = ["token": token, "externalUserId": externalUserId]
        if let filterOptions { arguments["filterOptions"] = filterOptions }
        return try await call(FetchInboxMessages.self, arguments)
    }

    func fetchInboxMessagesWithoutToken(externalUserId: JSONValue, filterOptions: JSONValue? = nil) async throws -> JSONValue {
        var arguments: JSONObject = ["externalUserId": externalUserId]
        if let filterOptions { arguments["filterOptions"] = filterOptions }
        return try await call(FetchInboxMessagesWithoutToken.self, arguments)
    }

    func setInboxMessagesSeen(externalUserId: JSONValue, messageIds: JSONValue) async throws -> JSONValue {
        try await call(SetInboxMessagesSeen.self, ["externalUserId": externalUserId, "messageIds": messageIds])
    }
}

@Suite struct SessionInboxTests {
    static let inboxPath = "/mobile/1/user/ada/inbox/\(InboxPlatform.segment)/messages"

    func inbox(_ harness: SessionHarness) -> FakeInbox {
        let inbox = FakeInbox(on: harness.api)
        inbox.put("ada", .init(id: "m1", topic: "promo"))
        inbox.put("ada", .init(id: "m2", topic: "news", seen: true))
        inbox.put("ada", .init(id: "m3", topic: "alerts"))
        return inbox
    }

    func pendingChanges(_ harness: SessionHarness) -> [JSONValue] {
        harness.stateFile?["pendingChanges"]?.arrayValue ?? []
    }

    // MARK: Fetching

    @Test func theInboxTokenGoesWithItsCallOnlyAndTheUserDataJWTStays() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = inbox(harness)
        let userToken = TokenFactory.token(sub: "someone")
        let inboxToken = TokenFactory.token(sub: "ada", exp: TokenFactory.now + 60)
        try await session.setUserDataJwt(.string(userToken))
        let before = harness.api.requestCount

        let page = try await session.fetchInboxMessages(token: .string(inboxToken), externalUserId: "ada")
        _ = try await session.fetchUser()
        _ = try await session.fetchInboxMessagesWithoutToken(externalUserId: "ada")

        let sent = harness.api.requests(since: before)
        #expect(sent.map(\.summary) == ["GET \(Self.inboxPath)", "GET /mobile/1/appinstance/reg-1/user", "GET \(Self.inboxPath)"])
        #expect(sent.map { $0.authorization ?? "" } == ["Bearer \(inboxToken)", "Bearer \(userToken)", "App app-1"])
        #expect(sent[0].header("pushregistrationid") == nil, "the inbox is the person's, not the installation's")
        #expect(page["countTotal"] == 3 && page["countUnread"] == 2)
        #expect(page["messages"]?.arrayValue?.map { $0["messageId"] } == ["m1", "m2", "m3"])
        #expect(page["messages"]?[1]?["seen"] == true && page["messages"]?[1]?["topic"] == "news")
        #expect(harness.stateFile?.serialized.contains(inboxToken.prefix(20)) == false, "never written")
        await harness.cleanUp(session)
    }

    static let tokenRefusals: [(token: String, code: String, description: String)] = [
        ("", "JWT_TOKEN_STRUCTURE_INVALID", "Token is empty or blank."),
        ("   ", "JWT_TOKEN_STRUCTURE_INVALID", "Token is empty or blank."),
        ("not-a-jwt", "JWT_TOKEN_STRUCTURE_INVALID", "Token must have three parts separated by dots."),
        (TokenFactory.expired, "JWT_TOKEN_EXPIRED", "The provided JWT is expired."),
        (
            TokenFactory.token(sub: "bob"), "JWT_TOKEN_SUBJECT_MISMATCH",
            "The token was issued for another person: its sub claim is not the externalUserId asked for. No request was sent."
        ),
    ]

    @Test(arguments: tokenRefusals)
    func aBadInboxTokenIsRefusedWithNothingSent(token: String, code: String, description: String) async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = inbox(harness)
        let before = harness.api.requestCount
        let error = await caughtError { try await session.fetchInboxMessages(token: .string(token), externalUserId: "ada") }
        #expect(error?.code == code)
        #expect(error?.description == description)
        #expect(harness.api.requestCount == before, "nothing sent")
        await harness.cleanUp(session)
    }

    @Test func aTokenThatExpiresWhileTheCallWaitsIsRefusedWhenSent() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        // The call ahead of it on the lane takes long enough for the token's exp to pass.
        let clock = harness.clock
        harness.api.setHook { request in
            if request.isUserPatch { clock.advance(120) }
            return nil
        }
        let token = TokenFactory.token(sub: "ada", exp: TokenFactory.now + 60)
        let admitted = try await session.admitInOrder([
            try SaveUser(arguments: BridgeArguments(["userData": ["firstName": "Ada"]])),
            try FetchInboxMessages(arguments: BridgeArguments(["token": .string(token), "externalUserId": "ada"])),
        ])
        _ = try await admitted[0].value()
        #expect(await caughtError { try await admitted[1].value() }?.code == "JWT_TOKEN_EXPIRED")
        #expect(harness.api.requests.contains { $0.isUserPatch })
        #expect(!harness.api.requests.contains { $0.isInbox })
        await harness.cleanUp(session)
    }

    static let argumentRefusals: [(method: String, arguments: JSONObject, field: String, reason: String)] = [
        ("fetchInboxMessages", ["token": .null, "externalUserId": "ada"], "token", "must be a string, got null"),
        ("fetchInboxMessages", ["token": .string(TokenFactory.token(sub: "ada")), "externalUserId": " "], "externalUserId", "must not be blank"),
        ("fetchInboxMessagesWithoutToken", ["externalUserId": ""], "externalUserId", "must not be blank"),
        ("fetchInboxMessagesWithoutToken", [:], "externalUserId", "is required"),
        ("fetchInboxMessagesWithoutToken", ["externalUserId": "ada", "filterOptions": ["topic": "a", "topics": ["b"]]], "filterOptions",
            "has both topic and topics; give one of them"),
        ("setInboxMessagesSeen", ["externalUserId": "ada", "messageIds": []], "messageIds", "must not be empty"),
        ("setInboxMessagesSeen", ["externalUserId": "ada", "messageIds": ["m1", ""]], "messageIds[1]", "must not be blank"),
        ("setInboxMessagesSeen", ["externalUserId": "", "messageIds": ["m1"]], "externalUserId", "must not be blank"),
        ("setInboxMessagesSeen", ["externalUserId": "ada", "messageIds": "m1"], "messageIds", "must be an array of strings, got a string"),
    ]

    @Test(arguments: argumentRefusals)
    func everyCallAnswersEvenForBlankInput(method: String, arguments: JSONObject, field: String, reason: String) async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let type = try #require(BridgeMethods.all.first { $0.name == method })
        let error = await caught { try await session.call(type, arguments) }
        #expect(error as? InvalidParameter == InvalidParameter(field: field, reason: reason))
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func beforeInitEveryInboxCallIsNotInitialized() async throws {
        let harness = SessionHarness()
        let session = harness.makeSession()
        #expect(await caughtError { try await session.fetchInboxMessagesWithoutToken(externalUserId: "ada") }?.code == "NOT_INITIALIZED")
        #expect(await caughtError { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1"]) }?.code == "NOT_INITIALIZED")
        #expect(harness.api.requestCount == 0)
        await harness.cleanUp(session)
    }

    @Test func filterOptionsBecomeTheQueryAndSeveralTopicsAreFilteredHere() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = inbox(harness)
        _ = try await session.fetchInboxMessagesWithoutToken(
            externalUserId: "ada", filterOptions: ["fromDateTime": "2023-01-01T00:00:00Z", "topic": "promo", "limit": 5])
        #expect(harness.api.requests.last?.query == "dateTimeFrom=1672531200000&messageTopic=promo&limit=5")

        let page = try await session.fetchInboxMessagesWithoutToken(externalUserId: "ada", filterOptions: ["topics": ["promo", "news"], "limit": 1])
        #expect(harness.api.requests.last?.query == "limit=1000")
        #expect(page["messages"]?.arrayValue?.map { $0["messageId"] } == ["m1"])
        #expect(page["countTotalFiltered"] == 2 && page["countUnreadFiltered"] == 1)
        #expect(page["countTotal"] == 3 && page["countUnread"] == 2)
        await harness.cleanUp(session)
    }

    @Test func anExternalUserIdIsOnePathSegment() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = inbox(harness)
        _ = try await session.fetchInboxMessagesWithoutToken(externalUserId: "a/../b?limit=1000#x")
        #expect(harness.api.requests.last?.path == "/mobile/1/user/a%2F..%2Fb%3Flimit%3D1000%23x/inbox/\(InboxPlatform.segment)/messages")
        #expect(harness.api.requests.last?.query == nil)
        await harness.cleanUp(session)
    }

    @Test func aServerRefusalIsTheServersErrorAndNotCountedAgainstTheUserDataJWT() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let inbox = inbox(harness)
        inbox.requireBearer.withLock { $0 = true }
        let error = await caughtError { try await session.fetchInboxMessagesWithoutToken(externalUserId: "ada") }
        #expect(error?.code == "ACCESS_TOKEN_MISSING" && error?.httpStatus == 401)
        #expect(harness.events.named(.authenticationError).isEmpty, "the inbox token is not the user-data JWT")
        await harness.cleanUp(session)
    }

    // MARK: Seen marks

    @Test func seenMarksAreSentOnceAndAnsweredWithTheIdsGiven() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let inbox = inbox(harness)

        #expect(try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1", "m1"]) == ["m1", "m1"])
        let first = try #require(harness.api.requests.last)
        #expect(first.isInboxSeen && first.authorization == "App app-1" && first.header("pushregistrationid") == "reg-1")
        #expect(first.body == ["externalUserId": "ada", "messages": [["messageId": "m1", "timestampDelta": 0, "inbox": true]]])
        #expect(inbox.isSeen("ada", "m1"))

        // m1 was sent, m2 the server reported seen: only m3 goes.
        _ = try await session.fetchInboxMessagesWithoutToken(externalUserId: "ada")
        #expect(try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1", "m2", "m3"]) == ["m1", "m2", "m3"])
        #expect(harness.api.requests.last?.body?["messages"]?.arrayValue?.map { $0["messageId"] } == ["m3"])
        let count = harness.api.requestCount
        #expect(try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m3"]) == ["m3"])
        #expect(harness.api.requestCount == count, "nothing left to send")
        await harness.cleanUp(session)
    }

    @Test func aRefusedMarkIsAnErrorAndNotRememberedAsSeen() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        harness.api.setHook { $0.isInboxSeen ? FakeMobileAPI.error(400, "REQUEST_FORMAT_INVALID", "Bad") : nil }
        let error = await caughtError { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1"]) }
        #expect(error?.code == "REQUEST_FORMAT_INVALID" && error?.pending == false)
        #expect(pendingChanges(harness).isEmpty)
        _ = await caught { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1"]) }
        #expect(harness.api.requests.filter(\.isInboxSeen).count == 2, "tried again: it never reached the server")
        await harness.cleanUp(session)
    }

    @Test func unsentMarksAreKeptAcrossARestartAndDeliveredOnceWithTheirAge() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        let inbox = inbox(harness)
        inbox.seenFailure.withLock { $0 = .network("connection refused") }

        let error = await caughtError { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1"]) }
        #expect(error?.code == "NETWORK_ERROR" && error?.pending == true)
        let second = await caughtError { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1", "m3"]) }
        #expect(second?.pending == true)
        let queued = pendingChanges(harness)
        #expect(queued.count == 1 && queued.first?["kind"] == "inboxSeen", "on disk, merged: \(queued)")
        #expect(InboxSeenMarks(queued: queued.first?["body"]?.objectValue ?? [:])?.messageIds == ["m1", "m3"])

        // A fetch meanwhile shows them seen.
        let page = try await session.fetchInboxMessagesWithoutToken(externalUserId: "ada")
        #expect(page["messages"]?.arrayValue?.map { $0["seen"] } == [true, true, true] && page["countUnread"] == 0)

        await session.shutdown()
        inbox.seenFailure.withLock { $0 = nil }
        harness.clock.advance(3600)
        let restarted = harness.makeSession()
        try await restarted.initialize(harness.configuration())
        let deadline = ContinuousClock.now + .seconds(30)
        while !pendingChanges(harness).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }

        let delivered = harness.api.requests.filter(\.isInboxSeen).filter { $0.body?["messages"]?.arrayValue?.count == 2 }
        #expect(delivered.count == 1, "delivered once")
        #expect(delivered.first?.body?["messages"]?[0]?["timestampDelta"] == 3600, "its age when sent")
        #expect(inbox.isSeen("ada", "m1") && inbox.isSeen("ada", "m3"))
        #expect(pendingChanges(harness).isEmpty)
        await harness.cleanUp(restarted)
    }

    @Test func queuedMarksAreDeliveredInCallOrderWithTheOtherChanges() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.fastRetries)
        let inbox = inbox(harness)
        inbox.userPatchFailure.withLock { $0 = .timeout }
        inbox.seenFailure.withLock { $0 = .timeout }
        #expect(await caughtError { try await session.saveUser(["firstName": "Ada"]) }?.pending == true)
        #expect(await caughtError { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1"]) }?.pending == true)
        let before = harness.api.requestCount
        inbox.userPatchFailure.withLock { $0 = nil }
        inbox.seenFailure.withLock { $0 = nil }
        let deadline = ContinuousClock.now + .seconds(30)
        while !pendingChanges(harness).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        // Failed attempts of the saveUser may come first; the marks only after it went through.
        let order = harness.api.requests(since: before).filter { $0.isUserPatch || $0.isInboxSeen }.map(\.method)
        let lastPatch = try #require(order.lastIndex(of: "PATCH"))
        let firstPost = try #require(order.firstIndex(of: "POST"))
        #expect(lastPatch < firstPost, "\(order)")
        #expect(inbox.isSeen("ada", "m1"))
        await harness.cleanUp(session)
    }

    @Test func cleanupForgetsQueuedMarks() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(retryPolicy: SessionHarness.slowRetries)
        let inbox = inbox(harness)
        inbox.seenFailure.withLock { $0 = .timeout }
        #expect(await caughtError { try await session.setInboxMessagesSeen(externalUserId: "ada", messageIds: ["m1"]) }?.pending == true)
        try await session.cleanup()
        #expect(pendingChanges(harness).isEmpty)
        await harness.cleanUp(session)
    }
}
