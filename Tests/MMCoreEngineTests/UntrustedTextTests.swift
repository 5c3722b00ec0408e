import HostileHTTPServer
import JSON
import Testing
import UserDataJWT

@testable import MMCoreEngine

/// Every piece of a token a text could leak: each run of base64url characters of the
/// token, 6 characters at a time (shorter runs carry too little to matter).
func tokenFragments(_ token: String, length: Int = 6) -> Set<String> {
    var fragments = Set<String>()
    for run in token.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
        let characters = Array(run)
        guard characters.count >= length else { continue }
        for start in 0...(characters.count - length) { fragments.insert(String(characters[start..<(start + length)])) }
    }
    return fragments
}

func leaks(_ token: String, in text: String) -> [String] {
    tokenFragments(token).filter { text.contains($0) }.sorted()
}

@Suite struct UntrustedTextTests {
    @Test(arguments: [
        ("plain text", "plain text"), ("a\r\nb", "a b"), ("a\nb\rc", "a b c"), ("tab\there", "tab here"),
        ("nul\u{0}byte", "nul byte"), ("del\u{7F}x", "del x"), ("esc\u{1B}[31mred", "esc [31mred"),
        ("csi\u{9B}31mred", "csi 31mred"), ("nel\u{85}x", "nel x"), ("ls\u{2028}ps\u{2029}x", "ls ps x"),
        ("bidi\u{202E}txet", "bidi txet"), ("zero\u{200B}width", "zero width"), ("  padded \r\n ", "padded"),
        ("é ünïcödé 😀 stays", "é ünïcödé 😀 stays"), ("", ""),
    ])
    func oneLineOfPrintableText(raw: String, expected: String) {
        #expect(UntrustedText.line(raw, token: nil, limit: 1024) == expected)
    }

    @Test(arguments: [(1024, 1024), (1025, 1024), (5000, 1024), (10, 10)])
    func cutAtTheLimit(length: Int, limit: Int) {
        let line = UntrustedText.line(String(repeating: "x", count: length), token: nil, limit: limit)
        #expect(line == String(repeating: "x", count: min(length, limit)) + (length > limit ? "…" : ""))
    }

    @Test(arguments: [
        ("USER_DATA_RESTRICTED", true), ("ACCESS_TOKEN_MISSING", true), ("A.B-C_9", true), ("X", true),
        (String(repeating: "A", count: 128), true), (String(repeating: "A", count: 129), false), ("", false),
        ("lowercase", false), ("ACCESS_TOKEN_INVALID\r\nSet-Cookie: x=1", false), ("WITH SPACE", false),
        ("ÉCOLE", false), ("A\u{0}", false), ("A/B", false), ("A:B", false), ("A\u{202E}B", false),
        (TokenFactory.token(), false),
    ])
    func aServerCodeIsUsedOnlyWhenWellFormed(raw: String, wellFormed: Bool) {
        #expect(UntrustedText.code(raw) == (wellFormed ? raw : nil))
    }

    // MARK: - Tokens

    static let token = TokenFactory.token()

    @Test(arguments: [
        "echo: \(token)",
        "echo: \(token.replacing(".", with: "\r\n.\r\n"))",
        "Bearer \(token)\r\n",
        String(repeating: "x", count: 1000) + " " + token,
        String(repeating: "x ", count: 510) + token + " trailing",
        "\(token)\(token)",
        "[\"Bearer \(token.prefix(40))\\n\(token.dropFirst(40))\"]",
    ])
    func theSessionsTokenIsRedactedBeforeTheCut(raw: String) {
        let line = UntrustedText.line(raw, token: Self.token, limit: 1024)
        #expect(leaks(Self.token, in: line) == [], "\(line)")
        #expect(line.count <= 1025)
    }

    @Test func anyOtherJWTIsRedactedToo() {
        let other = TokenFactory.token(sub: "someone-else")
        let line = UntrustedText.line("not yours: \(other).", token: Self.token, limit: 1024)
        #expect(line == "not yours: [REDACTED JWT].")
    }

    /// The excerpt of a non-JSON body: a token cut by the end of the window read is not
    /// shown in part (before, the window was cut first and redacted after, so most of a
    /// signature straddling the cut came through).
    @Test(arguments: [4096, UntrustedText.window])
    func aTokenStraddlingTheWindowLeaksNothing(cut: Int) {
        let token = Self.token
        let filler = cut - token.utf8.count + 10 - 2
        let body = "<" + String(repeating: "a", count: filler) + ">" + token + " the end"
        let error = MobileAPIClient.responseError(
            HTTPResponse(status: 502, headers: [("Content-Type", "text/html")], body: Array(body.utf8)), token: token)
        #expect(error.code == "UNEXPECTED_RESPONSE")
        #expect(leaks(token, in: error.description) == [], "\(error.description)")
    }
}

/// A server that echoes the token (or worse) in `messageId` and `text`, through the real
/// transport and client.
@Suite struct EchoingServerTests {
    static let token = TokenFactory.token()

    func error(from behaviour: HostileServer.Behaviour) async throws -> MobileMessagingError? {
        try await withHostileServer(behaviour) { server in
            let client = MobileAPIClient(
                configuration: Configuration(applicationCode: "app-1", backendBaseURL: server.baseURL, requestTimeoutSeconds: 60),
                transport: AsyncHTTPClientTransport())
            return await caughtError { try await client.fetchUser("reg-1", token: Self.token) }
        }
    }

    func expectNoLeak(_ error: MobileMessagingError?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else {
            Issue.record("no error", sourceLocation: sourceLocation)
            return
        }
        let everything = error.code + " " + error.description + " " + error.data.serialized
        for part in Self.token.split(separator: ".") {
            #expect(!everything.contains(part), "a whole segment leaked", sourceLocation: sourceLocation)
        }
        #expect(leaks(Self.token, in: everything) == [], "\(everything)", sourceLocation: sourceLocation)
    }

    @Test func theTokenAsMessageIdAndInText() async throws {
        let error = try await error(from: .mobileAPIError(status: 401, messageId: Self.token, text: "bad token: \(Self.token)"))
        expectNoLeak(error)
        #expect(error?.code == "UNEXPECTED_RESPONSE")
        #expect(error?.httpStatus == 401)
        #expect(error?.domain == "com.mobile-messaging")
    }

    @Test func theTokenInTextAfterAGoodCode() async throws {
        let error = try await error(
            from: .mobileAPIError(status: 401, messageId: "ACCESS_TOKEN_INVALID", text: "Bearer \(Self.token)\r\nwas refused"))
        expectNoLeak(error)
        #expect(error?.code == "ACCESS_TOKEN_INVALID")
        #expect(error?.description == "Bearer [REDACTED JWT] was refused")
        #expect(error?.isAuthenticationRejection == true)
    }

    @Test func aCodeWithALineBreakIsNotUsedAsTheCode() async throws {
        let error = try await error(
            from: .mobileAPIError(status: 403, messageId: "USER_DATA_RESTRICTED\r\nSet-Cookie: a=b", text: "Restricted\r\nX-Injected: 1"))
        #expect(error?.code == "UNEXPECTED_RESPONSE")
        #expect(error?.httpStatus == 403)
        #expect(error?.description == "The server answered HTTP 403 with an error whose messageId is not a well-formed code: Restricted X-Injected: 1")
        #expect(error?.description.contains("\r") == false && error?.description.contains("\n") == false)
    }

    @Test func aOneMegabyteTextIsCut() async throws {
        let text = String(repeating: "long ", count: 200_000) + Self.token
        let error = try await error(from: .mobileAPIError(status: 400, messageId: "REQUEST_FORMAT_INVALID", text: text))
        #expect(error?.code == "REQUEST_FORMAT_INVALID")
        #expect((error?.description.count ?? .max) <= 1025)
        #expect(error?.description.hasSuffix("long long…") == true)
        expectNoLeak(error)
    }

    @Test func aOneMegabyteCodeIsNotUsed() async throws {
        let error = try await error(from: .mobileAPIError(status: 400, messageId: String(repeating: "A", count: 1_000_000), text: "t"))
        #expect(error?.code == "UNEXPECTED_RESPONSE")
        #expect((error?.description.count ?? .max) < 1200)
    }
}

/// A token that would break the `Authorization` header line: AsyncHTTPClient refuses the
/// header before connecting, and its error, which quotes the header, must not be shown.
@Suite struct InvalidHeaderValueTests {
    @Test func theRefusedHeaderIsNotQuoted() async throws {
        let token = TokenFactory.token().replacing("c2lnbmF0", with: "c2ln\nbmF0")
        try await withHostileServer(.silent) { server in
            let client = MobileAPIClient(
                configuration: Configuration(applicationCode: "app-1", backendBaseURL: server.baseURL, requestTimeoutSeconds: 60),
                transport: AsyncHTTPClientTransport())
            let error = await caughtError { try await client.fetchUser("reg-1", token: token) }
            #expect(error?.code == "NETWORK_ERROR")
            #expect(leaks(token, in: error?.description ?? "") == [], "\(error?.description ?? "")")
            #expect(server.connectionCount == 0)
        }
    }
}
