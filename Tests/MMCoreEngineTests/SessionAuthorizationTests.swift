import JSON
import Testing
import UserDataJWT

@testable import MMCoreEngine

@Suite struct SessionAuthorizationTests {
    @Test func bearerOnlyForFetchUserSaveUserAndPersonalize() async throws {
        let harness = SessionHarness()
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
        let harness = SessionHarness()
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
        let harness = SessionHarness()
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
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(TokenFactory.token(exp: TokenFactory.now + 60)))
        _ = try await session.fetchUser()
        harness.clock.set(secondsSince1970: TokenFactory.now + 60)
        let before = harness.api.requestCount
        #expect(await caughtError { try await session.fetchUser() }?.code == "JWT_TOKEN_EXPIRED")
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func anExpiredTokenDoesNotBlockCallsThatUseApp() async throws {
        let harness = SessionHarness()
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
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        try await session.setUserDataJwt(.string(TokenFactory.expired))
        try await session.setUserDataJwt(cleared)
        _ = try await session.fetchUser()
        #expect(harness.api.requests.last?.authorization == "App app-1")
        await harness.cleanUp(session)
    }

    /// The native bridges clear the token only for `null` and `""` (`docs/contract/jwt.md`,
    /// "Setting, clearing and dropping the token"): a blank one is kept and refused when a
    /// call needs it, with nothing sent.
    @Test(arguments: ["   ", "\t\n"])
    func aBlankTokenIsKeptAndRefusedWhenUsed(blank: String) async throws {
        let harness = SessionHarness()
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
        let harness = SessionHarness()
        let token = TokenFactory.token()
        let session = try await harness.registeredSession(["userDataJwt": .string(token)])
        _ = try await session.fetchUser()
        #expect(harness.api.requests.last?.authorization == "Bearer \(token)")
        await harness.cleanUp(session)
    }

    @Test func setUserDataJwtRefusesOtherTypes() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let error = await caught { try await session.setUserDataJwt(5) }
        #expect(error as? InvalidParameter == InvalidParameter(field: "jwt", reason: "must be a string or null, got a number"))
        await harness.cleanUp(session)
    }

    @Test func aServerRefusalEmitsAuthenticationErrorAndIsNotRetried() async throws {
        let harness = SessionHarness()
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
        let harness = SessionHarness()
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
        let harness = SessionHarness()
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
        let harness = SessionHarness()
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
