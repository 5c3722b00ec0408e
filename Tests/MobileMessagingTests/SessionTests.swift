import JSON
import Testing
import UserDataJWT

@testable import MobileMessaging

/// A session wired to the fake Mobile API, a temporary state directory, a settable
/// clock and an event recorder.
struct Harness {
    let directory = TemporaryDirectory()
    let api = FakeMobileAPI()
    let events = EventRecorder()
    let clock = TestClock()
    let monotonic = TestMonotonicClock()

    static let fastRetries = RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100))
    /// No background retry within a test: without jitter every delay is the full minute.
    static let slowRetries = RetryPolicy(initialDelay: .seconds(60), maximumDelay: .seconds(60), jitter: false)

    func makeSession(retryPolicy: RetryPolicy = fastRetries, tokenProvider: (any TokenProvider)? = nil) -> Session {
        Session(
            stateDirectory: directory.stateDirectory, transport: api, events: events, logger: quietLogger,
            clock: clock.wallClock, monotonicClock: monotonic.clock, tokenProvider: tokenProvider, retryPolicy: retryPolicy)
    }

    func configuration(_ extra: JSONObject = [:], applicationCode: String = "app-1") -> JSONValue {
        var object: JSONObject = [
            "applicationCode": .string(applicationCode), "backendBaseURL": .string(FakeMobileAPI.baseURL),
            "requestTimeoutSeconds": 10,
        ]
        for member in extra { object[member.key] = member.value }
        return .object(object)
    }

    /// An initialized session whose registration has finished.
    func registeredSession(
        _ extra: JSONObject = [:], retryPolicy: RetryPolicy = fastRetries, tokenProvider: (any TokenProvider)? = nil
    ) async throws -> Session {
        let session = makeSession(retryPolicy: retryPolicy, tokenProvider: tokenProvider)
        try await session.initialize(configuration(extra))
        let registered = await events.wait(for: .registrationUpdated)
        try #require(registered != nil, "registration did not finish")
        return session
    }

    var statePath: String { directory.stateDirectory + "/state.json" }

    var stateFile: JSONValue? {
        readFile(statePath).flatMap { try? JSONParser.parse($0) }
    }

    func cleanUp(_ sessions: Session...) async {
        for session in sessions { await session.shutdown() }
        directory.remove()
    }
}

@Suite struct SessionLifecycleTests {
    @Test(arguments: [
        "setUserDataJwt", "saveUser", "fetchUser", "getUser", "personalize", "depersonalize", "saveInstallation",
        "fetchInstallation", "getInstallation", "setInstallationAsPrimary", "depersonalizeInstallation", "cleanup",
    ])
    func everyCallBeforeInitIsNotInitialized(method: String) async throws {
        let harness = Harness()
        let session = harness.makeSession()
        let error = await caughtError { () async throws -> JSONValue in
            switch method {
            case "setUserDataJwt": try await session.setUserDataJwt("a.b.c")
            case "saveUser": return try await session.saveUser(["firstName": "Ada"])
            case "fetchUser": return try await session.fetchUser()
            case "getUser": return try await session.getUser()
            case "personalize": return try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
            case "depersonalize": return try await session.depersonalize()
            case "saveInstallation": return try await session.saveInstallation([:])
            case "fetchInstallation": return try await session.fetchInstallation()
            case "getInstallation": return try await session.getInstallation()
            case "setInstallationAsPrimary": return try await session.setInstallationAsPrimary(pushRegistrationId: "x", primary: true)
            case "depersonalizeInstallation": return try await session.depersonalizeInstallation(pushRegistrationId: "x")
            case "cleanup": try await session.cleanup()
            default: Issue.record("unknown method \(method)")
            }
            return .null
        }
        #expect(error?.code == "NOT_INITIALIZED")
        #expect(error?.numericCode == 1001)
        #expect(error?.domain == "com.mobile-messaging")
        #expect(harness.api.requestCount == 0)
        await harness.cleanUp(session)
    }

    @Test func initAnswersBeforeTheRegistrationWhichEmitsRegistrationUpdated() async throws {
        let harness = Harness()
        let gate = Locked(false)
        harness.api.setHook { request in
            while !gate.current { try await Task.sleep(for: .milliseconds(5)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        // init has answered while the registration is still held by the server.
        #expect(try await session.getInstallation() == .object([:]))
        #expect(harness.events.named(.registrationUpdated).isEmpty)

        gate.withLock { $0 = true }
        let event = try #require(await harness.events.wait(for: .registrationUpdated))
        #expect(event.payload == "reg-1")
        #expect(event.json == ["eventName": "registrationUpdated", "payload": "reg-1"])
        #expect(try await session.getInstallation()["pushRegistrationId"] == "reg-1")
        #expect(harness.api.requests.map(\.summary) == ["POST /mobile/1/appinstance"])
        #expect(harness.api.requests[0].authorization == "App app-1")
        #expect(harness.stateFile?["installation"]?["pushRegId"] == "reg-1")
        await harness.cleanUp(session)
    }

    @Test func callsMadeDuringTheRegistrationWaitForIt() async throws {
        let harness = Harness()
        harness.api.setHook { request in
            if request.path == "/mobile/1/appinstance" { try await Task.sleep(for: .milliseconds(200)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        let installation = try await session.fetchInstallation()
        #expect(installation["pushRegistrationId"] == "reg-1")
        #expect(harness.api.requests.map(\.summary) == ["POST /mobile/1/appinstance", "GET /mobile/1/appinstance/reg-1"])
        await harness.cleanUp(session)
    }

    @Test func theWaitIsBoundedByTheRequestTimeout() async throws {
        let harness = Harness()
        harness.api.setHook { request in
            // Far longer than the bound: a wait that is not bounded shows as a 60 s test.
            if request.path == "/mobile/1/appinstance" { try await Task.sleep(for: .seconds(60)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration(["requestTimeoutSeconds": 0.2]))
        let started = ContinuousClock.now
        let error = await caughtError { try await session.fetchUser() }
        #expect(error?.code == "NO_REGISTRATION")
        #expect(error?.numericCode == 1003)
        #expect(error?.description == "This installation is not registered yet: the registration did not finish within 0.2 seconds.")
        // Generous: a loaded CI machine can be seconds late, never the hook's 60 s.
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(harness.api.requests.map(\.summary) == ["POST /mobile/1/appinstance"])
        await harness.cleanUp(session)
    }

    @Test func waitingCallsGetTheRegistrationsError() async throws {
        let harness = Harness()
        harness.api.setHook { request in
            if request.path == "/mobile/1/appinstance" { try await Task.sleep(for: .milliseconds(100)) }
            return nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration(applicationCode: "wrong"))
        let error = await caughtError { try await session.saveInstallation(["language": "hr"]) }
        #expect(error?.code == "INVALID_APPLICATION_CODE")
        #expect(error?.domain == "com.mobile-messaging.backend")
        #expect(error?.httpStatus == 401)
        #expect(harness.api.requestCount == 1, "the call waited for the running registration")
        #expect(harness.events.named(.registrationUpdated).isEmpty)
        // A non-transient failure is not retried in the background, only when a call needs it.
        try await Task.sleep(for: .milliseconds(150))
        #expect(harness.api.requestCount == 1)
        _ = await caughtError { try await session.fetchInstallation() }
        #expect(harness.api.requests.map(\.summary) == Array(repeating: "POST /mobile/1/appinstance", count: 2))
        await harness.cleanUp(session)
    }

    @Test func aTransientRegistrationFailureIsRetriedInTheBackground() async throws {
        let harness = Harness()
        let failures = Locked(0)
        harness.api.setHook { request in
            guard request.path == "/mobile/1/appinstance" else { return nil }
            let count = failures.withLock { value -> Int in
                value += 1
                return value
            }
            return count <= 2 ? HTTPResponse(status: 503, body: Array("<html>down</html>".utf8)) : nil
        }
        let session = harness.makeSession()
        try await session.initialize(harness.configuration())
        let event = await harness.events.wait(for: .registrationUpdated, timeout: .seconds(30))
        #expect(event?.payload == "reg-1")
        #expect(harness.api.requests.map(\.summary) == Array(repeating: "POST /mobile/1/appinstance", count: 3))
        await harness.cleanUp(session)
    }

    @Test func aRestartWithTheSameApplicationCodeKeepsTheState() async throws {
        let harness = Harness()
        let first = try await harness.registeredSession()
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        await first.shutdown()

        let second = harness.makeSession()
        try await second.initialize(harness.configuration())
        #expect(try await second.getInstallation()["pushRegistrationId"] == "reg-1")
        #expect(try await second.getUser()["externalUserId"] == "ada")
        try await Task.sleep(for: .milliseconds(50))
        #expect(harness.api.requests.filter { $0.path == "/mobile/1/appinstance" }.count == 1, "no second registration")
        await harness.cleanUp(second)
    }

    @Test func aNewApplicationCodeWipesTheOldState() async throws {
        let harness = Harness()
        let first = try await harness.registeredSession()
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        await first.shutdown()

        harness.api.store.withLock { $0.applicationCode = "app-2" }
        let second = harness.makeSession()
        try await second.initialize(harness.configuration(applicationCode: "app-2"))
        #expect(try await second.getInstallation() == .object([:]))
        #expect(try await second.getUser() == .object([:]))
        #expect(harness.stateFile?["applicationCode"] == "app-2")
        #expect(harness.stateFile?["installation"] == nil)
        let event = await harness.events.wait(for: .registrationUpdated, count: 2)
        #expect(event?.payload == "reg-2")
        #expect(harness.api.requests.last?.authorization == "App app-2")
        await harness.cleanUp(second)
    }

    @Test func aNewApplicationCodeInTheSameProcessWipesToo() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.applicationCode = "app-2" }
        try await session.initialize(harness.configuration(applicationCode: "app-2"))
        #expect(try await session.getInstallation() == .object([:]))
        #expect(await harness.events.wait(for: .registrationUpdated, count: 2)?.payload == "reg-2")
        await harness.cleanUp(session)
    }

    @Test func aSecondSessionOnTheSameDirectoryIsStateLocked() async throws {
        let harness = Harness()
        let first = harness.makeSession()
        try await first.initialize(harness.configuration())
        let second = harness.makeSession()
        let error = await caughtError { try await second.initialize(harness.configuration()) }
        #expect(error?.code == "STATE_LOCKED")
        #expect(error?.numericCode == 1401)
        // Still uninitialized, so every call says so.
        #expect(await caughtError { try await second.getUser() }?.code == "NOT_INITIALIZED")
        await harness.cleanUp(first, second)
    }

    @Test func aCorruptStateFileIsReportedOnceThenInitStartsClean() async throws {
        let harness = Harness()
        runShell("mkdir -p '\(harness.directory.stateDirectory)'")
        writeFile(harness.statePath, "{\"formatVersion\": 1, \"installation\": ")
        let session = harness.makeSession()
        let error = await caughtError { try await session.initialize(harness.configuration()) }
        #expect(error?.code == "STATE_CORRUPTED")
        #expect(error?.numericCode == 1402)
        #expect(error?.description.contains(harness.statePath + ".corrupt-\(Int(TokenFactory.now))") == true)
        #expect(harness.api.requestCount == 0)
        #expect(await caughtError { try await session.getUser() }?.code == "NOT_INITIALIZED")

        try await session.initialize(harness.configuration())
        #expect(await harness.events.wait(for: .registrationUpdated) != nil)
        await harness.cleanUp(session)
    }

    @Test func invalidConfigurationLeavesTheSessionUninitialized() async throws {
        let harness = Harness()
        let session = harness.makeSession()
        let error = await caughtError { try await session.initialize(["applicationCode": ""]) }
        #expect(error?.code == "INVALID_CONFIGURATION")
        #expect(await caughtError { try await session.getUser() }?.code == "NOT_INITIALIZED")
        #expect(harness.api.requestCount == 0)
        await harness.cleanUp(session)
    }

    @Test func cleanupForgetsInstallationUserTokenAndPendingWork() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession(retryPolicy: Harness.slowRetries)
        try await session.setUserDataJwt(.string(TokenFactory.token()))
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.setHook { _ in throw HTTPTransportError.network("connection refused") }
        #expect(try await session.depersonalize() == "pending")
        #expect(harness.stateFile?["pendingChanges"]?.arrayValue?.count == 1)

        try await session.cleanup()
        let file = try #require(harness.stateFile)
        #expect(file == ["formatVersion": 1, "applicationCode": "app-1", "pendingChanges": []])
        // The session is stopped until the next init, and nothing is sent meanwhile.
        harness.api.setHook(nil)
        let stopped = harness.api.requestCount
        #expect(await caughtError { try await session.getUser() }?.code == "NOT_INITIALIZED")
        #expect(await caughtError { try await session.saveUser(["firstName": "x"]) }?.code == "NOT_INITIALIZED")
        #expect(harness.api.requestCount == stopped)

        // The token is gone too: after init, the next user call registers anew and goes out with App.
        let before = harness.api.requestCount
        try await session.initialize(harness.configuration())
        #expect(try await session.getUser() == .object([:]))
        _ = try await session.fetchUser()
        let sent = harness.api.requests(since: before)
        #expect(sent.map(\.summary) == ["POST /mobile/1/appinstance", "GET /mobile/1/appinstance/reg-2/user"])
        #expect(sent.allSatisfy { $0.authorization == "App app-1" })
        #expect(harness.events.named(.depersonalized).isEmpty, "the pending depersonalize was dropped, not delivered")
        await harness.cleanUp(session)
    }
}

@Suite struct SessionAuthorizationTests {
    @Test func bearerOnlyForFetchUserSaveUserAndPersonalize() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { store in
            store.installations["other-1"] = ["pushRegId": "other-1"]
            store.users["other-1"] = ["externalUserId": "ada"]
        }
        let token = TokenFactory.token()
        try await session.setUserDataJwt(.string(token))
        let before = harness.api.requestCount

        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        _ = try await session.saveUser(["firstName": "Ada"])
        _ = try await session.fetchUser()
        _ = try await session.saveInstallation(["language": "hr"])
        _ = try await session.fetchInstallation()
        _ = try await session.setInstallationAsPrimary(pushRegistrationId: "other-1", primary: true)
        _ = try await session.depersonalizeInstallation(pushRegistrationId: "other-1")
        #expect(try await session.depersonalize() == "success")

        let sent = harness.api.requests(since: before).map { "\($0.summary) \($0.usesBearer ? "Bearer" : $0.authorization ?? "-")" }
        #expect(
            sent == [
                "POST /mobile/1/appinstance/reg-1/personalize Bearer",
                "PATCH /mobile/1/appinstance/reg-1/user Bearer",
                "GET /mobile/1/appinstance/reg-1/user Bearer",  // reading the saved user back
                "GET /mobile/1/appinstance/reg-1/user Bearer",
                "PATCH /mobile/1/appinstance/reg-1 App app-1",
                "GET /mobile/1/appinstance/reg-1 App app-1",
                "PATCH /mobile/1/appinstance/other-1 App app-1",
                "GET /mobile/1/appinstance/reg-1/user Bearer",  // the installations after the change
                "POST /mobile/1/appinstance/other-1/depersonalize App app-1",
                "GET /mobile/1/appinstance/reg-1/user Bearer",
                "POST /mobile/1/appinstance/reg-1/depersonalize App app-1",
            ])
        #expect(harness.api.requests(since: before).filter(\.usesBearer).allSatisfy { $0.authorization == "Bearer \(token)" })
        #expect(harness.api.requests.allSatisfy { $0.path == "/mobile/1/appinstance" || $0.header("pushregistrationid") == "reg-1" })
        await harness.cleanUp(session)
    }

    @Test func withoutATokenEverythingSendsApp() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        _ = try await session.saveUser(["firstName": "Ada"])
        _ = try await session.fetchUser()
        #expect(harness.api.requests.allSatisfy { $0.authorization == "App app-1" })
        await harness.cleanUp(session)
    }

    static let refusals: [(token: String, code: String, description: String)] = [
        (TokenFactory.expired, "JWT_TOKEN_EXPIRED", "The provided JWT is expired."),
        ("not-a-jwt", "JWT_TOKEN_STRUCTURE_INVALID", "Token must have three parts separated by dots."),
        ("a.b.c", "JWT_TOKEN_STRUCTURE_INVALID", "Token header is not a valid Base64 encoded JSON object."),
        (
            TokenFactory.part(["alg": "HS256", "typ": "JWT"]) + ".e30.sig", "JWT_TOKEN_STRUCTURE_INVALID",
            "Token header is missing mandatory header kid"
        ),
    ]

    @Test(arguments: ["saveUser", "fetchUser", "personalize"], [0, 1, 2, 3])
    func aRefusedTokenSendsNothing(method: String, refusal: Int) async throws {
        let (token, code, description) = Self.refusals[refusal]
        let harness = Harness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(token))
        let before = harness.api.requestCount
        let error = await caughtError { () async throws -> JSONValue in
            switch method {
            case "saveUser": try await session.saveUser(["firstName": "Ada"])
            case "fetchUser": try await session.fetchUser()
            default: try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
            }
        }
        #expect(error?.code == code)
        #expect(error?.description == description)
        #expect(error?.domain == "com.mobile-messaging")
        #expect(error?.numericCode == (code == "JWT_TOKEN_EXPIRED" ? 1102 : 1101))
        #expect(error?.httpStatus == nil)
        #expect(harness.api.requestCount == before, "no request may be sent")
        #expect(harness.events.named(.authenticationError).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func expiryFollowsTheInjectedClock() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(TokenFactory.token(exp: TokenFactory.now + 60)))
        _ = try await session.fetchUser()
        harness.clock.time.withLock { $0 = TokenFactory.now + 60 }
        let before = harness.api.requestCount
        #expect(await caughtError { try await session.fetchUser() }?.code == "JWT_TOKEN_EXPIRED")
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func anExpiredTokenDoesNotBlockCallsThatUseApp() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(TokenFactory.expired))
        _ = try await session.saveInstallation(["language": "hr"])
        _ = try await session.fetchInstallation()
        #expect(try await session.depersonalize() == "success")
        #expect(harness.api.requests.allSatisfy { $0.authorization == "App app-1" })
        await harness.cleanUp(session)
    }

    @Test(arguments: [JSONValue.null, ""])
    func nullOrEmptyClearsTheToken(cleared: JSONValue) async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(TokenFactory.expired))
        try await session.setUserDataJwt(cleared)
        _ = try await session.fetchUser()
        #expect(harness.api.requests.last?.authorization == "App app-1")
        await harness.cleanUp(session)
    }

    /// The native bridges clear the token only for `null` and `""` (`jwt.md`, row 1): a
    /// blank one is kept and refused when a call needs it, with nothing sent.
    @Test(arguments: ["   ", "\t\n"])
    func aBlankTokenIsKeptAndRefusedWhenUsed(blank: String) async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(blank))
        let before = harness.api.requestCount
        for call in [{ try await session.fetchUser() }, { try await session.saveUser(["firstName": "x"]) }] {
            let error = await caughtError(call)
            #expect(error?.code == "JWT_TOKEN_STRUCTURE_INVALID")
            #expect(error?.description == "Token is empty or blank.")
        }
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func aTokenFromTheConfigurationIsUsed() async throws {
        let harness = Harness()
        let token = TokenFactory.token()
        let session = try await harness.registeredSession(["userDataJwt": .string(token)])
        _ = try await session.fetchUser()
        #expect(harness.api.requests.last?.authorization == "Bearer \(token)")
        await harness.cleanUp(session)
    }

    @Test func setUserDataJwtRefusesOtherTypes() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let error = await caught { try await session.setUserDataJwt(5) }
        #expect(error as? InvalidParameter == InvalidParameter(field: "jwt", reason: "must be a string or null, got a number"))
        await harness.cleanUp(session)
    }

    @Test func aServerRefusalEmitsAuthenticationErrorAndIsNotRetried() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.requireBearer = true }
        let before = harness.api.requestCount

        let error = await caughtError { try await session.saveUser(["firstName": "Ada"]) }
        #expect(error?.code == "ACCESS_TOKEN_MISSING")
        #expect(error?.description == "Access token is missing")
        #expect(error?.domain == "com.mobile-messaging.backend")
        #expect(error?.httpStatus == 401)
        #expect(error?.numericCode == 1300)
        #expect(harness.api.requests(since: before).map(\.summary) == ["PATCH /mobile/1/appinstance/reg-1/user"])
        let event = try #require(harness.events.named(.authenticationError).first)
        #expect(event.payload == ["code": "ACCESS_TOKEN_MISSING", "description": "Access token is missing", "method": "saveUser"])
        await harness.cleanUp(session)
    }

    @Test func aRejectedBearerTokenNamesTheMethod() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let token = TokenFactory.token()
        try await session.setUserDataJwt(.string(token))
        harness.api.setHook { request in
            request.usesBearer ? FakeMobileAPI.error(401, "ACCESS_TOKEN_INVALID", "Token signature is invalid") : nil
        }
        for method in ["fetchUser", "personalize"] {
            let error = await caughtError { () async throws -> JSONValue in
                method == "fetchUser"
                    ? try await session.fetchUser() : try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
            }
            #expect(error?.code == "ACCESS_TOKEN_INVALID")
        }
        let payloads = harness.events.named(.authenticationError).map(\.payload)
        #expect(payloads.map { $0["method"] } == ["fetchUser", "personalize"])
        #expect(!harness.events.all.map(\.description).joined().contains(token))
        await harness.cleanUp(session)
    }

    @Test func otherServerErrorsEmitNoAuthenticationError() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.setHook { request in
            request.path.hasSuffix("/user") ? FakeMobileAPI.error(403, "USER_DATA_RESTRICTED", "User update access is restricted") : nil
        }
        let error = await caughtError { try await session.fetchUser() }
        #expect(error?.code == "USER_DATA_RESTRICTED")
        #expect(error?.httpStatus == 403)
        #expect(harness.events.named(.authenticationError).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func theTokenIsNeverWrittenToTheStateFile() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let token = TokenFactory.token()
        try await session.setUserDataJwt(.string(token))
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"], "userAttributes": ["firstName": "Ada"]])
        _ = try await session.saveUser(["lastName": "Lovelace"])
        await session.shutdown()
        let text = String(decoding: try #require(readFile(harness.statePath)), as: UTF8.self)
        #expect(text.contains("Lovelace"), "the user is there")
        for part in token.split(separator: ".") { #expect(!text.contains(part)) }
        #expect(!Redaction.containsJWTLike(text))
        harness.directory.remove()
    }
}

@Suite struct SessionUserTests {
    @Test func saveUserSendsOnlyChangesAndReturnsTheServersCopy() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let personalized = try await session.personalize(
            ["userIdentity": ["externalUserId": "ada"], "userAttributes": ["firstName": "Ada", "customAttributes": ["plan": "silver"]]])
        #expect(personalized["type"] == "CUSTOMER")
        let before = harness.api.requestCount

        let saved = try await session.saveUser(
            ["externalUserId": "ada", "firstName": "Ada", "lastName": "Lovelace", "emails": ["ada@example.com"], "customAttributes": ["plan": "gold"]])
        let sent = harness.api.requests(since: before)
        #expect(sent.map(\.summary) == ["PATCH /mobile/1/appinstance/reg-1/user", "GET /mobile/1/appinstance/reg-1/user"])
        #expect(
            sent[0].body
                == ["lastName": "Lovelace", "emails": [["address": "ada@example.com"]], "customAttributes": ["plan": "gold"]])
        #expect(saved["lastName"] == "Lovelace")
        #expect(saved["emails"] == ["ada@example.com"])
        #expect(saved["firstName"] == "Ada")
        #expect(saved["installations"]?.arrayValue?.first?["pushRegistrationId"] == "reg-1")
        #expect(try await session.getUser() == saved)
        #expect(harness.events.named(.userUpdated).last?.payload == saved)

        // The same save again changes nothing: no request, no event.
        let events = harness.events.all.count
        let again = try await session.saveUser(["lastName": "Lovelace", "customAttributes": ["plan": "gold"]])
        #expect(again == saved)
        #expect(harness.api.requestCount == before + 2)
        #expect(harness.events.all.count == events)
        await harness.cleanUp(session)
    }

    @Test func saveUserUsesTheUserInThePatchAnswerWhenThereIsOne() async throws {
        let harness = Harness()
        harness.api.store.withLock { $0.patchUserReturnsBody = true }
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let saved = try await session.saveUser(["middleName": "King", "birthday": "1815-12-10", "gender": "Female"])
        #expect(harness.api.requests(since: before).map(\.summary) == ["PATCH /mobile/1/appinstance/reg-1/user"])
        #expect(saved["middleName"] == "King")
        #expect(saved["type"] == "LEAD")
        await harness.cleanUp(session)
    }

    @Test func savingNothingWithoutAServerCopyReadsTheUser() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.users["reg-1"] = ["firstName": "Ada"] }
        let before = harness.api.requestCount
        let user = try await session.saveUser(["type": "CUSTOMER"])
        #expect(harness.api.requests(since: before).map(\.summary) == ["GET /mobile/1/appinstance/reg-1/user"])
        #expect(user["firstName"] == "Ada")
        await harness.cleanUp(session)
    }

    @Test func invalidUserDataIsInvalidParameterAndSendsNothing() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let error = await caught { try await session.saveUser(["birthday": "10.12.1815"]) }
        #expect(error as? InvalidParameter == InvalidParameter(field: "userData.birthday", reason: "must be a date written YYYY-MM-DD"))
        let context = await caught { try await session.personalize(["userIdentity": ["phones": [1]]]) }
        #expect((context as? InvalidParameter)?.field == "context.userIdentity.phones[0]")
        let installation = await caught { try await session.saveInstallation(["isPrimaryDevice": "yes"]) }
        #expect((installation as? InvalidParameter)?.field == "installation.isPrimaryDevice")
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func fetchUserRefreshesTheLocalCopy() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        #expect(try await session.getUser() == .object([:]))
        harness.api.store.withLock { $0.users["reg-1"] = ["externalUserId": "ada", "phones": [["number": "1", "preferred": true]]] }
        let fetched = try await session.fetchUser()
        #expect(fetched["phones"] == ["1"])
        #expect(try await session.getUser() == fetched)
        #expect(harness.events.named(.userUpdated).count == 1)
        _ = try await session.fetchUser()
        #expect(harness.events.named(.userUpdated).count == 1, "unchanged: no second event")
        #expect(harness.stateFile?["user"]?["externalUserId"] == "ada")
        await harness.cleanUp(session)
    }

    @Test func personalizeSendsTheContextAndEmitsPersonalized() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let user = try await session.personalize(
            [
                "userIdentity": ["externalUserId": "ada", "emails": ["ada@example.com"]],
                "userAttributes": ["firstName": "Ada"], "forceDepersonalize": true,
            ])
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "POST /mobile/1/appinstance/reg-1/personalize")
        #expect(request.query == "forceDepersonalize=true&keepAsLead=false&setDeviceAsPrimary=false")
        #expect(
            request.body
                == ["userIdentity": ["externalUserId": "ada", "emails": [["address": "ada@example.com"]]], "userAttributes": ["firstName": "Ada"]])
        #expect(user["externalUserId"] == "ada")
        #expect(user["emails"] == ["ada@example.com"])
        let event = try #require(harness.events.named(.personalized).first)
        #expect(event.payload == user)
        #expect(try await session.getUser() == user)
        await harness.cleanUp(session)
    }

    @Test func userDataPersistingDisabledKeepsTheUserInMemoryOnly() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession(["privacySettings": ["userDataPersistingDisabled": true]])
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"], "userAttributes": ["lastName": "Lovelace"]])
        #expect(try await session.getUser()["lastName"] == "Lovelace")
        let file = try #require(harness.stateFile)
        #expect(file["user"] == nil)
        #expect(file["installation"]?["pushRegId"] == "reg-1")
        await harness.cleanUp(session)
    }
}

@Suite struct SessionDepersonalizeTests {
    @Test func successForgetsTheUserAndEmitsDepersonalized() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        #expect(try await session.depersonalize() == "success")
        #expect(try await session.getUser() == .object([:]))
        let event = try #require(harness.events.named(.depersonalized).first)
        #expect(event.payload == .null)
        #expect(harness.api.requests.last?.summary == "POST /mobile/1/appinstance/reg-1/depersonalize")
        await harness.cleanUp(session)
    }

    @Test(arguments: ["network", "timeout", "503"])
    func unreachableServerMeansPendingThenDeliveredInTheBackground(failure: String) async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        let down = Locked(true)
        harness.api.setHook { request in
            guard down.current, request.path.hasSuffix("/depersonalize") else { return nil }
            switch failure {
            case "network": throw HTTPTransportError.network("connection refused")
            case "timeout": throw HTTPTransportError.timeout
            default: return FakeMobileAPI.error(503, "SERVICE_UNAVAILABLE", "Try later")
            }
        }
        #expect(try await session.depersonalize() == "pending")
        #expect(try await session.getUser() == .object([:]), "the user is forgotten at once")
        let pending = try #require(harness.stateFile?["pendingChanges"]?.arrayValue?.first)
        #expect(pending["kind"] == "depersonalize")
        #expect(pending["pushRegistrationId"] == "reg-1")
        #expect(harness.stateFile?["user"] == nil)
        #expect(harness.events.named(.depersonalized).isEmpty)

        down.withLock { $0 = false }
        let event = await harness.events.wait(for: .depersonalized)
        #expect(event?.payload == .null)
        #expect(harness.stateFile?["pendingChanges"] == [])
        #expect(harness.api.store.current.users["reg-1"] == nil, "the server got it")
        await harness.cleanUp(session)
    }

    @Test func aPendingDepersonalizeSurvivesARestart() async throws {
        let harness = Harness()
        let first = try await harness.registeredSession(retryPolicy: Harness.slowRetries)
        _ = try await first.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.setHook { request in
            if request.path.hasSuffix("/depersonalize") { throw HTTPTransportError.network("connection refused") }
            return nil
        }
        #expect(try await first.depersonalize() == "pending")
        await first.shutdown()

        harness.api.setHook(nil)
        let second = harness.makeSession(retryPolicy: Harness.slowRetries)
        try await second.initialize(harness.configuration())
        #expect(await harness.events.wait(for: .depersonalized) != nil)
        #expect(harness.stateFile?["pendingChanges"] == [])
        await harness.cleanUp(second)
    }

    @Test func aPendingDepersonalizeGoesOutBeforeTheNextUserCall() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession(retryPolicy: Harness.slowRetries)
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.setHook { request in
            if request.path.hasSuffix("/depersonalize") { throw HTTPTransportError.timeout }
            return nil
        }
        #expect(try await session.depersonalize() == "pending")

        // Still unreachable: the user call fails with the depersonalize's error, nothing else is sent.
        let before = harness.api.requestCount
        #expect(await caughtError { try await session.personalize(["userIdentity": ["externalUserId": "bob"]]) }?.code == "TIMEOUT")
        #expect(harness.api.requests(since: before).map(\.summary) == ["POST /mobile/1/appinstance/reg-1/depersonalize"])

        harness.api.setHook(nil)
        let user = try await session.personalize(["userIdentity": ["externalUserId": "bob"]])
        #expect(user["externalUserId"] == "bob")
        #expect(
            harness.api.requests(since: before + 1).map(\.summary) == [
                "POST /mobile/1/appinstance/reg-1/depersonalize", "POST /mobile/1/appinstance/reg-1/personalize",
            ])
        #expect(harness.events.named(.depersonalized).count == 1)
        await harness.cleanUp(session)
    }

    @Test func aSecondDepersonalizeWhilePendingDeliversTheSameRequest() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession(retryPolicy: Harness.slowRetries)
        harness.api.setHook { request in
            if request.path.hasSuffix("/depersonalize") { throw HTTPTransportError.timeout }
            return nil
        }
        #expect(try await session.depersonalize() == "pending")
        #expect(try await session.depersonalize() == "pending")
        #expect(harness.stateFile?["pendingChanges"]?.arrayValue?.count == 1)
        harness.api.setHook(nil)
        #expect(try await session.depersonalize() == "success")
        #expect(harness.stateFile?["pendingChanges"] == [])
        #expect(harness.events.named(.depersonalized).count == 1)
        await harness.cleanUp(session)
    }

    @Test func aRefusalOfTheQueuedRequestIsReportedByTheNextDepersonalize() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession(retryPolicy: Harness.slowRetries)
        harness.api.setHook { request in
            if request.path.hasSuffix("/depersonalize") { throw HTTPTransportError.network("connection refused") }
            return nil
        }
        #expect(try await session.depersonalize() == "pending")
        harness.api.setHook { request in
            request.path.hasSuffix("/depersonalize") ? FakeMobileAPI.error(404, "NO_REGISTRATION", "Installation not found") : nil
        }
        let error = await caughtError { try await session.depersonalize() }
        #expect(error?.code == "NO_REGISTRATION")
        #expect(error?.domain == "com.mobile-messaging.backend")
        #expect(harness.stateFile?["pendingChanges"] == [], "retrying cannot help: the entry is dropped")
        #expect(harness.events.named(.depersonalized).isEmpty)
        await harness.cleanUp(session)
    }

    @Test func aClientErrorIsAnErrorNotPending() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.setHook { request in
            request.path.hasSuffix("/depersonalize") ? FakeMobileAPI.error(400, "REQUEST_FORMAT_INVALID", "Invalid request") : nil
        }
        let error = await caughtError { try await session.depersonalize() }
        #expect(error?.code == "REQUEST_FORMAT_INVALID")
        #expect(error?.pending == false)
        #expect(harness.stateFile?["pendingChanges"] == [])
        await harness.cleanUp(session)
    }
}

@Suite struct SessionInstallationTests {
    @Test func saveInstallationSendsOnlyChanges() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let saved = try await session.saveInstallation(
            ["pushRegistrationId": "reg-1", "isPushRegistrationEnabled": true, "customAttributes": ["theme": "dark"], "deviceTimezoneId": "Europe/Zagreb"])
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "PATCH /mobile/1/appinstance/reg-1")
        #expect(request.body == ["customAttributes": ["theme": "dark"], "deviceTimezoneOffset": "Europe/Zagreb"])
        #expect(saved["customAttributes"] == ["theme": "dark"])
        #expect(saved["deviceTimezoneOffset"] == "Europe/Zagreb")
        #expect(try await session.getInstallation() == saved)
        #expect(harness.events.named(.installationUpdated).last?.payload == saved)

        #expect(try await session.saveInstallation(["customAttributes": ["theme": "dark"]]) == saved)
        #expect(harness.api.requestCount == before + 1, "nothing changed, nothing sent")
        await harness.cleanUp(session)
    }

    @Test func fetchInstallationRefreshesTheLocalCopy() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.installations["reg-1"]?["isPrimary"] = true }
        let fetched = try await session.fetchInstallation()
        #expect(fetched["isPrimaryDevice"] == true)
        #expect(try await session.getInstallation() == fetched)
        #expect(harness.events.named(.installationUpdated).count == 1)
        await harness.cleanUp(session)
    }

    func sessionWithAnotherInstallation(_ harness: Harness) async throws -> Session {
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.store.withLock { store in
            store.installations["other-1"] = ["pushRegId": "other-1", "isPrimary": false]
            store.users["other-1"] = ["externalUserId": "ada"]
        }
        return session
    }

    @Test func setInstallationAsPrimaryReturnsThePersonsInstallations() async throws {
        let harness = Harness()
        let session = try await sessionWithAnotherInstallation(harness)
        let before = harness.api.requestCount
        let installations = try await session.setInstallationAsPrimary(pushRegistrationId: "other-1", primary: true)
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "PATCH /mobile/1/appinstance/other-1")
        #expect(request.body == ["isPrimary": true])
        #expect(request.header("pushregistrationid") == "reg-1")
        let list = try #require(installations.arrayValue)
        #expect(list.map { $0["pushRegistrationId"] } == ["other-1", "reg-1"])
        #expect(list.first?["isPrimaryDevice"] == true)
        await harness.cleanUp(session)
    }

    @Test func settingThisInstallationAsPrimaryUpdatesTheLocalCopy() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        _ = try await session.setInstallationAsPrimary(pushRegistrationId: "reg-1", primary: true)
        #expect(try await session.getInstallation()["isPrimaryDevice"] == true)
        #expect(harness.events.named(.installationUpdated).count == 1)
        await harness.cleanUp(session)
    }

    @Test func depersonalizeInstallationReturnsTheRemainingInstallations() async throws {
        let harness = Harness()
        let session = try await sessionWithAnotherInstallation(harness)
        let before = harness.api.requestCount
        let installations = try await session.depersonalizeInstallation(pushRegistrationId: "other-1")
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "POST /mobile/1/appinstance/other-1/depersonalize")
        #expect(request.header("pushregistrationid") == "reg-1")
        #expect(installations.arrayValue?.map { $0["pushRegistrationId"] } == ["reg-1"])
        await harness.cleanUp(session)
    }

    @Test func theInstallationsFallBackToTheLocalCopyWhenTheUserCannotBeRead() async throws {
        let harness = Harness()
        let session = try await sessionWithAnotherInstallation(harness)
        _ = try await session.fetchUser()  // the local copy now lists both installations
        harness.api.setHook { request in
            request.path.hasSuffix("/user") ? FakeMobileAPI.error(401, "ACCESS_TOKEN_MISSING", "Access token is missing") : nil
        }
        let installations = try await session.setInstallationAsPrimary(pushRegistrationId: "other-1", primary: true)
        let list = try #require(installations.arrayValue)
        #expect(list.count == 2)
        #expect(list.first { $0["pushRegistrationId"] == "other-1" }?["isPrimaryDevice"] == true)
        #expect(list.first { $0["pushRegistrationId"] == "reg-1" }?["isPrimaryDevice"] == false)
        #expect(harness.events.named(.authenticationError).isEmpty, "a read-back is not the caller's auth failure")
        await harness.cleanUp(session)
    }

    @Test func invalidInstallationArguments() async throws {
        let harness = Harness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        #expect(
            await caught { try await session.setInstallationAsPrimary(pushRegistrationId: 5, primary: true) } as? InvalidParameter
                == InvalidParameter(field: "pushRegistrationId", reason: "must be a string, got a number"))
        #expect(
            await caught { try await session.setInstallationAsPrimary(pushRegistrationId: "x", primary: "yes") } as? InvalidParameter
                == InvalidParameter(field: "primary", reason: "must be a boolean, got a string"))
        #expect(
            await caught { try await session.depersonalizeInstallation(pushRegistrationId: "") } as? InvalidParameter
                == InvalidParameter(field: "pushRegistrationId", reason: "must not be empty"))
        #expect(harness.api.requestCount == before)
        let own = await caught { try await session.depersonalizeInstallation(pushRegistrationId: "reg-1") }
        #expect((own as? InvalidParameter)?.field == "pushRegistrationId")
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }
}
