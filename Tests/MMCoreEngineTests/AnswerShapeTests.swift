import JSON
import Testing

@testable import MMCoreEngine

/// What the client makes of answers that are not the Mobile API's: a 2xx that is not
/// JSON at all (a captive portal's page) is a network failure, kept and retried; JSON
/// of the wrong shape is a final `UNEXPECTED_RESPONSE`; a 3xx is never followed.
@Suite struct AnswerShapeTests {
    let fake = FakeMobileAPI()
    var client: MobileAPIClient { fake.client }

    enum Outcome: Equatable, CustomStringConvertible {
        case registered(String)
        case transient(String)
        case final(String, Int?)

        var description: String {
            switch self {
            case .registered(let id): "registered \(id)"
            case .transient(let code): "transient \(code)"
            case .final(let code, let status): "final \(code) \(status.map(String.init) ?? "-")"
            }
        }
    }

    func register(answering status: Int, _ contentType: String?, _ body: String) async -> Outcome {
        fake.setHook { _ in
            HTTPResponse(status: status, headers: contentType.map { [("Content-Type", $0)] } ?? [], body: Array(body.utf8))
        }
        do {
            return .registered(try await client.registerInstallation(Installation()).pushRegistrationId ?? "")
        } catch {
            return error.isTransient ? .transient(error.code) : .final(error.code, error.httpStatus)
        }
    }

    @Test(arguments: [
        // Not JSON at all: whoever answered, it was not the Mobile API.
        (200, String?("text/html; charset=utf-8"), "<html><body>Sign in to Wi-Fi</body></html>", Outcome.transient("NETWORK_ERROR")),
        (200, "text/plain", "OK", .transient("NETWORK_ERROR")),
        (200, "application/json", "<html>lying about its type</html>", .transient("NETWORK_ERROR")),
        (201, nil, "Welcome", .transient("NETWORK_ERROR")),
        (200, "application/json", #"{"pushRegId":"#, .transient("NETWORK_ERROR")),
        // JSON: the body decides, whatever the content type says.
        (200, "application/json", #"{"pushRegId":"reg-9"}"#, .registered("reg-9")),
        (200, "text/html", #"{"pushRegId":"reg-9"}"#, .registered("reg-9")),
        (200, nil, #" {"pushRegId":"reg-9"} "#, .registered("reg-9")),
        // The Mobile API's JSON of the wrong shape: a final answer.
        (200, "application/json", #"["ok"]"#, .final("UNEXPECTED_RESPONSE", 200)),
        (200, "application/json", #"{"regEnabled":true}"#, .final("UNEXPECTED_RESPONSE", 200)),
        (204, nil, "", .final("UNEXPECTED_RESPONSE", 204)),
    ])
    func aSuccessIsJudgedByItsBody(status: Int, contentType: String?, body: String, expected: Outcome) async {
        #expect(await register(answering: status, contentType, body) == expected)
    }

    @Test func aPortalPageOnACallWithoutAnAnswerBodyIsStillAFailure() async throws {
        fake.setHook { _ in HTTPResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array("<p>portal</p>".utf8)) }
        let error = await caughtError { try await client.patchUser("reg-1", body: ["firstName": "Ada"], token: nil) }
        #expect(error?.code == "NETWORK_ERROR")
        #expect(error?.isTransient == true)
    }

    // MARK: - Redirects

    func redirect(_ status: Int, location: String?, body: String = "") -> MobileMessagingError {
        MobileAPIClient.responseError(
            HTTPResponse(status: status, headers: location.map { [("Location", $0)] } ?? [], body: Array(body.utf8)), token: nil)
    }

    @Test(arguments: [300, 301, 302, 303, 304, 307, 308, 399])
    func everyThreeHundredIsAnUnfollowedRedirect(status: Int) {
        let error = redirect(status, location: "https://elsewhere.example/mobile/1/appinstance")
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(error.domain == "com.mobile-messaging")
        #expect(error.httpStatus == status)
        #expect(error.isUnfollowedRedirect)
        #expect(
            error.description
                == "The server answered HTTP \(status), a redirect to elsewhere.example, which is not followed: check backendBaseURL.")
    }

    @Test(arguments: [
        ("https://evil.example:8443/p?externalUserId=ada#x", "a redirect to evil.example:8443,"),
        ("https://user:secret@evil.example/", "a redirect to evil.example,"),
        ("/relative/path", "a redirect,"),
        ("https://evil.example\r\nSet-Cookie: a=b/", "a redirect to evil.example Set-Cookie: a=b,"),
        ("", "a redirect,"),
    ])
    func theDescriptionNamesOnlyTheHost(location: String, expected: String) {
        let description = redirect(302, location: location).description
        #expect(description.contains(expected), "\(description)")
        #expect(!description.contains("ada") && !description.contains("secret") && !description.contains("\r"))
    }

    @Test func aRedirectWithAMobileAPIErrorBodyIsStillARedirect() {
        let error = redirect(
            302, location: nil, body: #"{"requestError":{"serviceException":{"messageId":"NO_REGISTRATION","text":"t"}}}"#)
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(error.isUnfollowedRedirect)
    }

    @Test(arguments: [200, 299, 400, 401, 429, 500, 503])
    func otherStatusesAreNotRedirects(status: Int) {
        #expect(!MobileMessagingError.unexpectedResponse(status: status, "x").isUnfollowedRedirect)
        #expect(!MobileMessagingError(code: "X", description: "", domain: "com.mobile-messaging.backend", httpStatus: 302).isUnfollowedRedirect)
    }
}
