import JSON
import Testing
@testable import UserDataJWT

/// Builds compact tokens from header and claims objects, as a backend would (unsigned:
/// the client never checks the signature).
enum TokenFactory {
    static let now: Double = 1_800_000_000

    static let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": "key-1"]
    static func claims(exp: JSONValue = .number(JSONNumber(now + 60))) -> JSONValue {
        ["typ": "Bearer", "sub": "alice", "infobip-api-key": "app-1", "iat": .number(JSONNumber(now)), "exp": exp, "jti": "j-1"]
    }

    static func part(_ value: JSONValue) -> String { Base64URL.encode(value.serializedBytes) }

    static func token(header: JSONValue = header, claims: JSONValue = claims(), signature: String = "c2lnbmF0dXJl") -> String {
        "\(part(header)).\(part(claims)).\(signature)"
    }

    static func without(_ key: String, in value: JSONValue) -> JSONValue {
        var object = value.objectValue!
        object[key] = nil
        return .object(object)
    }
}

@Suite struct UserDataJWTValidationTests {
    let now = TokenFactory.now

    func failure(_ token: String) -> UserDataJWTError? { validationFailure(of: token, now: now) }

    @Test func acceptsAValidToken() throws {
        let jwt = try UserDataJWT.validate(TokenFactory.token(), now: now)
        #expect(jwt.keyID == "key-1")
        #expect(jwt.subject == "alice")
        #expect(jwt.expiresAt == now + 60)
    }

    @Test(arguments: ["", " ", "   \t", "\n"])
    func row1_blank(token: String) {
        #expect(failure(token) == .init(code: .structureInvalid, description: "Token is empty or blank.", problem: .blank))
    }

    @Test(arguments: ["abc", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "..", "a.b.c."])
    func row2_threeNonEmptyParts(token: String) {
        let error = failure(token)
        #expect(error?.code == .structureInvalid)
        #expect(error?.description == "Token must have three parts separated by dots.")
    }

    @Test(arguments: [
        "AAAA", "eyJhbGciOiJIUzI1NiJ9x", "eyJhbGciOiJIUzI1NiJ9=x",  // not JSON / impossible length / misplaced padding
        Base64URL.encode(Array("not json".utf8)), Base64URL.encode(Array("[1,2]".utf8)), Base64URL.encode(Array("\"s\"".utf8)),
        // Characters outside the alphabet ('+', '!') fail earlier: TokenCharactersTests.
    ])
    func row3_headerNotBase64JSONObject(header: String) {
        let token = "\(header).\(TokenFactory.part(TokenFactory.claims())).sig"
        #expect(failure(token)?.description == "Token header is not a valid Base64 encoded JSON object.")
    }

    @Test(arguments: ["alg", "typ", "kid"])
    func row4_missingHeader(name: String) {
        let token = TokenFactory.token(header: TokenFactory.without(name, in: TokenFactory.header))
        #expect(failure(token)?.description == "Token header is missing mandatory header \(name)")
        #expect(failure(token)?.code == .structureInvalid)
    }

    @Test func row4_firstMissingHeaderInOrderWins() {
        let token = TokenFactory.token(header: ["kid": "k"])
        #expect(failure(token)?.description == "Token header is missing mandatory header alg")
    }

    @Test func row4_presenceIsByKeyNotValue() throws {
        let token = TokenFactory.token(header: ["alg": nil, "typ": 5, "kid": ""])
        #expect(throws: Never.self) { try UserDataJWT.validate(token, now: now) }
    }

    @Test func row5_payloadNotBase64JSONObject() {
        for payload in ["AAAA", TokenFactory.part("text"), Base64URL.encode(Array("{\"a\":".utf8))] {
            let token = "\(TokenFactory.part(TokenFactory.header)).\(payload).sig"
            #expect(failure(token)?.description == "Token payload is not a valid Base64 encoded JSON object.")
        }
    }

    @Test func row3_beforeRow5() {
        #expect(failure("AAAA.AAAA.sig")?.description == "Token header is not a valid Base64 encoded JSON object.")
    }

    @Test(arguments: ["typ", "sub", "infobip-api-key", "iat", "exp", "jti"])
    func row6_missingClaim(name: String) {
        let token = TokenFactory.token(claims: TokenFactory.without(name, in: TokenFactory.claims()))
        #expect(failure(token)?.description == "Token payload is missing mandatory claim \(name)")
    }

    @Test func row6_firstMissingClaimInOrderWins() {
        let token = TokenFactory.token(claims: ["exp": 1, "jti": "x"])
        #expect(failure(token)?.description == "Token payload is missing mandatory claim typ")
    }

    @Test(arguments: [JSONValue.string("soon"), .string(""), .bool(true), .null, ["x"], ["a": 1], .string("1e999")])
    func row7_expNotANumber(exp: JSONValue) {
        let token = TokenFactory.token(claims: TokenFactory.claims(exp: exp))
        #expect(failure(token) == .init(code: .structureInvalid, description: "Token payload claim exp is not a number.", problem: .expNotANumber))
    }

    @Test(arguments: [
        (JSONValue.number(JSONNumber(1_800_000_060)), 1_800_000_060.0),
        (.number(JSONNumber(1_800_000_060.5)), 1_800_000_060.5),
        (.string("1800000060"), 1_800_000_060.0),
        (.string(" 1800000060.25 "), 1_800_000_060.25),
    ])
    func row7_expAsIntFloatOrNumericString(exp: JSONValue, expected: Double) throws {
        let jwt = try UserDataJWT.validate(TokenFactory.token(claims: TokenFactory.claims(exp: exp)), now: now)
        #expect(jwt.expiresAt == expected)
    }

    @Test func row8_expiredExactlyAtExp() {
        let token = TokenFactory.token(claims: TokenFactory.claims(exp: .number(JSONNumber(now))))
        #expect(failure(token) == .expired)
        #expect(failure(token)?.description == "The provided JWT is expired.")
        #expect(failure(token)?.code.rawValue == "JWT_TOKEN_EXPIRED")
    }

    @Test func row8_validOneSecondBeforeExp() throws {
        let token = TokenFactory.token(claims: TokenFactory.claims(exp: .number(JSONNumber(now + 1))))
        #expect(throws: Never.self) { try UserDataJWT.validate(token, now: now) }
        #expect(failure(token) == nil)
        #expect(throws: UserDataJWTError.expired) { try UserDataJWT.validate(token, now: now + 1) }
    }

    @Test func structureIsCheckedBeforeExpiry() {
        let token = TokenFactory.token(claims: ["typ": "Bearer", "exp": 1])
        #expect(failure(token)?.code == .structureInvalid)
    }

    @Test func paddingIsOptional() throws {
        // Header/payload lengths chosen so that base64 needs padding; both spellings pass.
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": "k1"]
        let claims = TokenFactory.claims()
        for (h, p) in [(TokenFactory.part(header), TokenFactory.part(claims))] {
            let padded = "\(pad(h)).\(pad(p)).sig"
            #expect(h.count % 4 != 0 || p.count % 4 != 0)
            #expect(throws: Never.self) { try UserDataJWT.validate("\(h).\(p).sig", now: now) }
            #expect(throws: Never.self) { try UserDataJWT.validate(padded, now: now) }
        }
    }

    func pad(_ text: String) -> String { text + String(repeating: "=", count: (4 - text.count % 4) % 4) }

    @Test func leewayHelper() throws {
        let jwt = try UserDataJWT.validate(TokenFactory.token(), now: now)
        #expect(jwt.expires(within: 60, now: now))
        #expect(!jwt.expires(within: 59, now: now))
    }

    @Test func errorsNeverContainTheToken() {
        let tokens = [TokenFactory.token(claims: TokenFactory.claims(exp: .number(JSONNumber(now - 1)))),
                      TokenFactory.token(header: ["alg": "x"]), "a.b", TokenFactory.token(claims: ["typ": "Bearer"])]
        for token in tokens {
            let error = failure(token)
            #expect(error != nil)
            for part in token.split(separator: ".") where part.count > 3 {
                #expect(!(error?.description.contains(part) ?? true))
            }
        }
    }
}

@Suite struct Base64URLTests {
    @Test(arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{FF}\u{FE}é😀"])
    func roundTrips(text: String) {
        let encoded = Base64URL.encode(Array(text.utf8))
        #expect(!encoded.contains("="))
        #expect(Base64URL.decode(encoded) == Array(text.utf8))
    }

    @Test func knownVectors() {
        #expect(Base64URL.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8=") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zm9vYg==") == Array("foob".utf8))
    }

    @Test(arguments: ["A", "Zm9vY===", "Zm9v=YmFy", "+/8", "Zm 9v", "Zm9vYg="])
    func rejects(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}

@Suite struct RedactionTests {
    @Test func summaryShowsOnlyKidAndClaimNames() {
        let token = TokenFactory.token()
        let summary = Redaction.summary(of: token)
        #expect(summary == "JWT(kid: key-1, claims: exp,iat,infobip-api-key,jti,sub,typ)")
        #expect(!summary.contains("alice"))
        #expect(Redaction.summary(of: "garbage") == "JWT(unparseable, 7 bytes)")
    }

    @Test func redactRemovesTokenAndParts() {
        let token = TokenFactory.token()
        let parts = token.split(separator: ".")
        let text = "sent \(token) then \(parts[1]) alone"
        let redacted = Redaction.redact(token, in: text)
        #expect(!redacted.contains(parts[0]) && !redacted.contains(parts[1]))
        #expect(redacted.contains("[REDACTED JWT]"))
    }

    @Test func detectsJWTLikeText() {
        #expect(Redaction.containsJWTLike("Authorization: Bearer \(TokenFactory.token())"))
        #expect(!Redaction.containsJWTLike("version 1.2.3 of mmcore at example.com"))
    }
}

@Suite struct UserDataJWTPartsTests {
    /// The byte split of ASCII tokens must give exactly the parts the character split gives
    /// (the structure errors depend on them); non-ASCII tokens take the character split.
    @Test(arguments: [
        "", ".", "..", "a.b.c", "a..c", ".b.", "a.b.c.d", "abc", "a.b.", "\r\n.x\r\n.y",
        "é.b.c", "a.\u{301}b.c", "a.b.c\u{301}", TokenFactory.token(),
    ])
    func partsMatchTheCharacterSplit(token: String) {
        #expect(UserDataJWT.parts(of: token) == token.split(separator: ".", omittingEmptySubsequences: false))
    }
}

/// The client-side check's error for `token` at `now`, `nil` when it passes.
func validationFailure(of token: String, now: Double) -> UserDataJWTError? {
    do {
        _ = try UserDataJWT.validate(token, now: now)
        return nil
    } catch {
        return error
    }
}
