import JSON
import Testing

@testable import MMCoreEngine

@Suite struct ErrorMappingTests {
    func map(_ status: Int, _ body: String, contentType: String? = nil, token: String? = nil) -> MobileMessagingError {
        MobileAPIClient.responseError(
            HTTPResponse(status: status, headers: contentType.map { [("Content-Type", $0)] } ?? [], body: Array(body.utf8)),
            token: token)
    }

    @Test func serverErrorShapeKeepsItsCodeAndText() {
        let error = map(403, #"{"requestError":{"serviceException":{"messageId":"USER_DATA_RESTRICTED","text":"User update access is restricted"}}}"#)
        #expect(error.code == "USER_DATA_RESTRICTED")
        #expect(error.description == "User update access is restricted")
        #expect(error.domain == "com.mobile-messaging.backend")
        #expect(error.httpStatus == 403)
        #expect(error.numericCode == 1300)
        #expect(!error.pending)
        #expect(
            error.data
                == [
                    "code": "USER_DATA_RESTRICTED", "description": "User update access is restricted",
                    "domain": "com.mobile-messaging.backend", "httpStatus": 403,
                ])
        #expect(!error.isAuthenticationRejection)
    }

    /// A server cannot park the queue for days: Retry-After counts up to an hour.
    @Test(arguments: [("5", 5.0), ("3600", 3600), ("3601", 3600), ("999999", 3600), ("1e300", 3600), ("-1", nil), ("soon", nil)])
    func retryAfterIsReadAndCappedAtAnHour(header: String, seconds: Double?) {
        let response = HTTPResponse(
            status: 429, headers: [("Retry-After", header)],
            body: Array(#"{"requestError":{"serviceException":{"messageId":"TOO_MANY_REQUESTS","text":"Slow down"}}}"#.utf8))
        #expect(MobileAPIClient.responseError(response, token: nil).retryAfterSeconds == seconds)
    }

    @Test func missingTextFallsBackToTheStatus() {
        let error = map(400, #"{"requestError":{"serviceException":{"messageId":"REQUEST_FORMAT_INVALID"}}}"#)
        #expect(error.code == "REQUEST_FORMAT_INVALID")
        #expect(error.description == "HTTP 400")
    }

    @Test(arguments: [401, 403])
    func accessTokenCodesAreAuthenticationRejections(status: Int) {
        let error = map(status, #"{"requestError":{"serviceException":{"messageId":"ACCESS_TOKEN_EXPIRED","text":"t"}}}"#)
        #expect(error.isAuthenticationRejection)
    }

    @Test func any401IsAnAuthenticationRejection() {
        #expect(map(401, #"{"requestError":{"serviceException":{"messageId":"INVALID_TOKEN","text":"t"}}}"#).isAuthenticationRejection)
    }

    @Test func nonJSONBody() {
        let error = map(400, "Bad request, sorry", contentType: "text/plain")
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(error.domain == "com.mobile-messaging")
        #expect(error.numericCode == 1300)
        #expect(error.httpStatus == 400)
        #expect(
            error.description
                == "The server answered HTTP 400 with a body that is not a Mobile API error (text/plain, 18 bytes): Bad request, sorry")
    }

    @Test func emptyBody() {
        let error = map(502, "")
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(error.httpStatus == 502)
        #expect(error.description == "The server answered HTTP 502 with an empty body.")
        #expect(error.isTransient)
    }

    @Test func htmlFromAProxyIsShortenedToOneLine() {
        let page = """
            <html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>
            <body>\(String(repeating: "<p>filler text\t</p>\n", count: 200))</body></html>
            """
        let error = map(503, page, contentType: "text/html; charset=utf-8")
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(error.httpStatus == 503)
        #expect(error.isTransient)
        #expect(error.description.hasPrefix("The server answered HTTP 503 with a body that is not a Mobile API error (text/html; charset=utf-8"))
        #expect(error.description.contains(": 503 Service Temporarily Unavailable filler text"))
        #expect(!error.description.contains("<"))
        #expect(!error.description.contains("\n") && !error.description.contains("\r") && !error.description.contains("\t"))
        #expect(error.description.count < 250)
    }

    @Test func jsonOfAnotherShape() {
        let error = map(500, #"{"error": "boom"}"#, contentType: "application/json")
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(error.description.contains("HTTP 500"))
    }

    @Test func anEchoedTokenIsRedacted() {
        let token = TokenFactory.token()
        let error = map(401, #"{"requestError":{"serviceException":{"messageId":"ACCESS_TOKEN_INVALID","text":"bad token \#(token)"}}}"#, token: token)
        #expect(!error.description.contains(token))
        #expect(error.description.contains("[REDACTED JWT]"))
        let plain = map(400, "token was \(token)", token: token)
        #expect(!plain.description.contains(token))
    }

    @Test func transportFailures() {
        let timeout = MobileAPIClient.transportError(HTTPTransportError.timeout, timeoutSeconds: 20, token: nil)
        #expect(timeout.code == "TIMEOUT")
        #expect(timeout.numericCode == 1202)
        #expect(timeout.description == "The Mobile API did not answer within 20 seconds.")
        #expect(timeout.httpStatus == nil)
        #expect(timeout.isTransient)

        let network = MobileAPIClient.transportError(
            HTTPTransportError.network("connection refused (errno: 111)\n"), timeoutSeconds: 20, token: nil)
        #expect(network.code == "NETWORK_ERROR")
        #expect(network.numericCode == 1201)
        #expect(network.description == "The Mobile API could not be reached: connection refused (errno: 111).")
        #expect(network.isTransient)

        struct Odd: Error {}
        #expect(MobileAPIClient.transportError(Odd(), timeoutSeconds: 1, token: nil).code == "NETWORK_ERROR")
        #expect(MobileAPIClient.transportError(CancellationError(), timeoutSeconds: 1, token: nil).code == "NETWORK_ERROR")

        let large = MobileAPIClient.transportError(
            HTTPTransportError.responseTooLarge(status: 200, limit: 1_048_576), timeoutSeconds: 1, token: nil)
        #expect(large.code == "UNEXPECTED_RESPONSE")
        #expect(large.httpStatus == 200)
    }

    @Test(arguments: [
        ("NOT_INITIALIZED", 1001), ("INVALID_CONFIGURATION", 1002), ("NO_REGISTRATION", 1003),
        ("JWT_TOKEN_STRUCTURE_INVALID", 1101), ("JWT_TOKEN_EXPIRED", 1102), ("AUTHENTICATION_PAUSED", 1103),
        ("NETWORK_ERROR", 1201), ("TIMEOUT", 1202), ("UNEXPECTED_RESPONSE", 1300), ("STATE_LOCKED", 1401),
        ("STATE_CORRUPTED", 1402), ("STATE_UNAVAILABLE", 1403),
    ])
    func numericCodes(code: String, numeric: Int) {
        #expect(MobileMessagingError(code: code, description: "").numericCode == numeric)
        // The backend's codes all share 1300, whatever their string.
        #expect(MobileMessagingError(code: code, description: "", domain: "com.mobile-messaging.backend").numericCode == 1300)
    }

    @Test func dataCarriesPending() {
        var error = MobileMessagingError.network("x")
        error.pending = true
        #expect(error.data["pending"] == true)
        #expect(error.data["httpStatus"] == nil)
    }
}

@Suite struct MobileAPIClientRequestTests {
    let fake = FakeMobileAPI()
    var client: MobileAPIClient { fake.client }

    @Test func registrationRequest() async throws {
        var installation = Installation()
        installation.os = "Linux"
        let registered = try await client.registerInstallation(installation)
        #expect(registered.pushRegistrationId == "reg-1")
        let request = try #require(fake.requests.first)
        #expect(request.method == "POST")
        #expect(request.url == "https://fake.test/mobile/1/appinstance")
        #expect(request.authorization == "App app-1")
        #expect(request.header("Accept") == "application/json")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("User-Agent") == "mmcore/\(CoreVersion.current)")
        #expect(request.header("pushregistrationid") == nil)
        #expect(request.body == ["os": "Linux"])
        #expect(request.timeout == .seconds(3))
    }

    @Test func userCallsSendBearerOnlyWithAToken() async throws {
        _ = try await client.registerInstallation(Installation())
        let token = TokenFactory.token()
        _ = try await client.fetchUser("reg-1", token: token)
        _ = try await client.fetchUser("reg-1", token: nil)
        _ = try await client.patchUser("reg-1", body: ["firstName": "Ada"], token: token)
        _ = try await client.patchUser("reg-1", body: ["firstName": "Ada"], token: nil)
        let context = try PersonalizeContext(wrapper: ["userIdentity": ["externalUserId": "ada"]])
        _ = try await client.personalize("reg-1", context: context, token: token)
        _ = try await client.personalize("reg-1", context: context, token: nil)
        let auth = fake.requests.dropFirst().map { "\($0.summary) \($0.authorization ?? "-")" }
        #expect(
            auth == [
                "GET /mobile/1/appinstance/reg-1/user Bearer \(token)",
                "GET /mobile/1/appinstance/reg-1/user App app-1",
                "PATCH /mobile/1/appinstance/reg-1/user Bearer \(token)",
                "PATCH /mobile/1/appinstance/reg-1/user App app-1",
                "POST /mobile/1/appinstance/reg-1/personalize Bearer \(token)",
                "POST /mobile/1/appinstance/reg-1/personalize App app-1",
            ])
        #expect(fake.requests.dropFirst().allSatisfy { $0.header("pushregistrationid") == "reg-1" })
        #expect(fake.requests.last?.query == "forceDepersonalize=false&keepAsLead=false&setDeviceAsPrimary=false")
        #expect(fake.requests[1].header("Content-Type") == nil, "no body, no Content-Type")
    }

    @Test func installationCallsAlwaysSendApp() async throws {
        _ = try await client.registerInstallation(Installation())
        _ = try await client.fetchInstallation("reg-1")
        _ = try await client.patchInstallation("reg-1", body: ["isPrimary": true], own: "reg-1")
        try await client.depersonalize("reg-1", own: "reg-1")
        #expect(fake.requests.allSatisfy { $0.authorization == "App app-1" })
        #expect(
            fake.requests.map(\.summary) == [
                "POST /mobile/1/appinstance", "GET /mobile/1/appinstance/reg-1", "PATCH /mobile/1/appinstance/reg-1",
                "POST /mobile/1/appinstance/reg-1/depersonalize",
            ])
        #expect(fake.requests[2].body == ["isPrimary": true])
    }

    @Test func personalizeFlagsGoInTheQuery() async throws {
        _ = try await client.registerInstallation(Installation())
        let context = try PersonalizeContext(
            wrapper: ["userIdentity": ["externalUserId": "ada"], "forceDepersonalize": true, "keepAsLead": true])
        _ = try await client.personalize("reg-1", context: context, token: nil)
        #expect(fake.requests.last?.query == "forceDepersonalize=true&keepAsLead=true&setDeviceAsPrimary=false")
        #expect(fake.requests.last?.body == ["userIdentity": ["externalUserId": "ada"]])
    }

    @Test func idsArePercentEncodedInThePath() async throws {
        _ = try? await client.fetchInstallation("a/b?c d")
        #expect(fake.requests.last?.url == "https://fake.test/mobile/1/appinstance/a%2Fb%3Fc%20d")
    }

    @Test func aSuccessWithoutTheExpectedObjectIsUnexpected() async throws {
        fake.setHook { _ in FakeMobileAPI.json(200, ["ok"]) }
        let error = await caughtError { try await client.registerInstallation(Installation()) }
        #expect(error?.code == "UNEXPECTED_RESPONSE")
        #expect(error?.httpStatus == 200)
        #expect(error?.isTransient == false)

        fake.setHook { _ in FakeMobileAPI.json(200, ["regEnabled": true]) }
        let noID = await caughtError { try await client.registerInstallation(Installation()) }
        #expect(noID?.code == "UNEXPECTED_RESPONSE")
        #expect(noID?.description == "The server registered the installation but sent no pushRegId.")

        fake.setHook { _ in HTTPResponse(status: 204) }
        let empty = await caughtError { try await client.fetchUser("reg-1", token: nil) }
        #expect(empty?.code == "UNEXPECTED_RESPONSE")
    }

    @Test func transportErrorsAreMapped() async throws {
        fake.setHook { _ in throw HTTPTransportError.timeout }
        #expect(await caughtError { try await client.fetchInstallation("x") }?.code == "TIMEOUT")
        fake.setHook { _ in throw HTTPTransportError.network("connection refused") }
        #expect(await caughtError { try await client.fetchInstallation("x") }?.code == "NETWORK_ERROR")
    }

    @Test func oversizedBodiesAreRefusedEvenFromALenientTransport() async throws {
        fake.setHook { _ in HTTPResponse(status: 200, body: [UInt8](repeating: 0x20, count: (1 << 20) + 1)) }
        let error = await caughtError { try await client.fetchInstallation("x") }
        #expect(error?.code == "UNEXPECTED_RESPONSE")
        #expect(error?.description.contains("larger than 1048576 bytes") == true)
    }
}
