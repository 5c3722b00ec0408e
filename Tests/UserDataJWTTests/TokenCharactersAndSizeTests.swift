import JSON
import Testing

@testable import UserDataJWT

/// The checks of ours around the SDKs' table (`docs/contract/jwt.md`, "The client-side
/// checks", the unnumbered rows): a size cap before any parsing, and, after rows 1 and
/// 2, no character outside the base64url alphabet, `=` and dots.
@Suite struct TokenCharactersTests {
    let now = TokenFactory.now
    static let charactersMessage = "Token contains characters outside the Base64url alphabet."

    func failure(_ token: String) -> UserDataJWTError? { validationFailure(of: token, now: now) }

    /// Characters a token must never carry into an `Authorization` header: whitespace
    /// and line breaks (header injection), separators, the standard base64 alphabet,
    /// non-ASCII, controls and invisible format characters.
    static let foreign: [String] = [
        " ", "\n", "\r", "\r\n", "\t", ",", ";", ":", "+", "/", "%", "!", "\"", "'", "\\", "@", "*",
        "\u{0}", "\u{7F}", "\u{85}", "\u{A0}", "\u{200B}", "\u{FEFF}", "\u{202E}", "é", "😀",
    ]

    enum Position: String, CaseIterable, Sendable {
        case start, inHeader, inPayload, inSignature, end
    }

    static func inserting(_ character: String, at position: Position) -> String {
        let parts = TokenFactory.token().split(separator: ".").map(String.init)
        func insert(_ text: String) -> String { String(text.prefix(4)) + character + String(text.dropFirst(4)) }
        switch position {
        case .start: return character + parts.joined(separator: ".")
        case .inHeader: return [insert(parts[0]), parts[1], parts[2]].joined(separator: ".")
        case .inPayload: return [parts[0], insert(parts[1]), parts[2]].joined(separator: ".")
        case .inSignature: return [parts[0], parts[1], insert(parts[2])].joined(separator: ".")
        case .end: return parts.joined(separator: ".") + character
        }
    }

    @Test(arguments: foreign, Position.allCases)
    func aForeignCharacterAnywhereFailsTheCharacterCheck(character: String, position: Position) {
        let token = Self.inserting(character, at: position)
        #expect(
            failure(token) == .init(code: .structureInvalid, description: Self.charactersMessage, problem: .characters),
            "\(position) \(character.unicodeScalars.map { String($0.value, radix: 16) })")
        #expect(throws: UserDataJWTError.self) { try UserDataJWT(parsing: token) }
    }

    /// Rows 1 and 2 keep their messages: the new check runs after them.
    @Test(arguments: [
        (" ", "Token is empty or blank."),
        ("\r\n\t", "Token is empty or blank."),
        ("a b", "Token must have three parts separated by dots."),
        ("a,b.c", "Token must have three parts separated by dots."),
        ("a b..c", "Token must have three parts separated by dots."),
        ("é.b.c.d", "Token must have three parts separated by dots."),
        ("a b.c.d", charactersMessage),
        ("!!!.%%%.sig", charactersMessage),
        ("eyJ+YWxnIjoxfQ.eyJ9.sig", charactersMessage),
    ])
    func rowsOneAndTwoComeFirst(token: String, message: String) {
        #expect(failure(token)?.description == message)
        #expect(failure(token)?.code == .structureInvalid)
    }

    @Test(arguments: ["=", "==", "-", "_", "-_"])
    func theAlphabetPaddingAndDotsPass(suffix: String) {
        let token = TokenFactory.token(signature: "c2ln" + suffix)
        #expect(failure(token) == nil)
    }

    @Test func paddedHeaderAndPayloadStillPass() {
        let parts = TokenFactory.token().split(separator: ".").map(String.init)
        let padded = parts.prefix(2).map { $0 + String(repeating: "=", count: (4 - $0.count % 4) % 4) } + [parts[2]]
        #expect(failure(padded.joined(separator: ".")) == nil)
    }
}

// MARK: - Whitespace-only tokens

@Suite struct BlankTokenTests {
    /// Every Unicode White_Space scalar, alone and mixed: `Token is empty or blank.`
    static let whitespace: [String] = [
        " ", "\t", "\n", "\u{B}", "\u{C}", "\r", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}",
        "\u{2004}", "\u{2005}", "\u{2006}", "\u{2007}", "\u{2008}", "\u{2009}", "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}",
        "\u{205F}", "\u{3000}", "\r\n", " \t\r\n ", String(repeating: " ", count: 100),
    ]

    @Test(arguments: whitespace)
    func aWhitespaceOnlyTokenIsBlank(token: String) {
        #expect(throws: UserDataJWTError(code: .structureInvalid, description: "Token is empty or blank.", problem: .blank)) {
            try UserDataJWT.validate(token, now: TokenFactory.now)
        }
    }
}

// MARK: - Size

@Suite struct TokenSizeTests {
    static let limit = UserDataJWT.maximumTokenBytes
    static let tooLong = UserDataJWTError(
        code: .structureInvalid, description: "Token is longer than 8192 bytes.", problem: .tooLong(limit: 8192))

    /// A token of exactly `bytes` bytes, valid in every other respect.
    static func token(ofBytes bytes: Int) -> String {
        var claims = TokenFactory.claims().objectValue!
        claims["pad"] = .string(String(repeating: "x", count: bytes * 3 / 4 - 300))
        let base = "\(TokenFactory.part(TokenFactory.header)).\(TokenFactory.part(.object(claims)))."
        return base + String(repeating: "s", count: bytes - base.utf8.count)
    }

    @Test func theLimitIsDocumentedAsEightKiB() {
        #expect(Self.limit == 8192)
    }

    @Test(arguments: [limit - 1, limit])
    func aTokenUpToTheLimitIsRead(bytes: Int) throws {
        let token = Self.token(ofBytes: bytes)
        #expect(token.utf8.count == bytes)
        #expect(throws: Never.self) { try UserDataJWT.validate(token, now: TokenFactory.now) }
    }

    @Test(arguments: [limit + 1, 2 * limit, 900 * 1024])
    func aLongerTokenIsRefused(bytes: Int) {
        #expect(throws: Self.tooLong) { try UserDataJWT.validate(Self.token(ofBytes: bytes), now: TokenFactory.now) }
    }

    /// Before any other check: a long blank or partless token is refused for its size.
    @Test(arguments: [String(repeating: " ", count: limit + 1), String(repeating: "a", count: 900 * 1024), String(repeating: "é", count: 5000)])
    func theSizeIsCheckedFirst(token: String) {
        #expect(throws: Self.tooLong) { try UserDataJWT(parsing: token) }
    }

    @Test func theSummaryOfAnOversizedTokenHoldsNoneOfIt() {
        let token = Self.token(ofBytes: 900 * 1024)
        #expect(Redaction.summary(of: token) == "JWT(unparseable, 921600 bytes)")
    }
}

// MARK: - Redaction of malformed tokens

@Suite struct MalformedTokenRedactionTests {
    static let signature = "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"

    /// Tokens whose signature is broken by a character outside the alphabet, as a
    /// wrapper could pass them, and how they may come back in a text (as is, or with the
    /// control characters already turned into spaces by a sanitizer).
    static let broken: [String] = [
        "\n", "\r\n", " ", "\t", ",", "%0A",
    ].map { separator in
        TokenFactory.token(signature: String(signature.prefix(15)) + separator + String(signature.dropFirst(15)))
    }

    @Test(arguments: broken, ["raw", "spaced", "bearer"])
    func noPieceOfTheSignatureSurvives(token: String, form: String) {
        let echoed: String
        switch form {
        case "raw": echoed = "header was \(token) end"
        case "spaced": echoed = "header was Bearer " + String(token.map { $0.isWhitespace || $0.isNewline ? " " : $0 }) + " end"
        // How AsyncHTTPClient's invalidHeaderFieldValues error prints the values:
        // escaped, so a line break comes back as a backslash and an `n`.
        default: echoed = "invalidHeaderFieldValues(" + String(describing: ["Bearer \(token)"]) + ")"
        }
        let redacted = Redaction.redact(token, in: echoed)
        for piece in [String(Self.signature.prefix(15)), String(Self.signature.dropFirst(15))] {
            #expect(!redacted.contains(piece.prefix(8)) && !redacted.contains(piece.suffix(8)), "\(redacted)")
        }
        for part in token.split(separator: ".").prefix(2) { #expect(!redacted.contains(part.prefix(8)), "\(redacted)") }
        #expect(redacted.hasPrefix(form == "bearer" ? "invalidHeaderFieldValues" : "header was"))
        #expect(redacted.hasSuffix(form == "bearer" ? "\"])" : " end"))
    }

    @Test func aTokenEchoedInFragmentsIsRedactedFragmentByFragment() {
        let token = TokenFactory.token(signature: Self.signature)
        let split = String(token.enumerated().flatMap { index, character in index % 9 == 8 ? [character, "\r", "\n"] : [character] })
        let redacted = Redaction.redact(token, in: "got " + split)
        #expect(!redacted.contains(String(Self.signature.suffix(6))))
        #expect(!redacted.contains(String(Self.signature.prefix(6))))
    }

    @Test func anyJWTLikeWordIsRedacted() {
        let other = TokenFactory.token(signature: "b3RoZXItc2lnbmF0dXJl")
        let text = Redaction.redactingJWTLike(in: "someone else's \(other), and a header alone \(other.split(separator: ".")[0]).")
        #expect(text == "someone else's [REDACTED JWT], and a header alone [REDACTED JWT].")
        #expect(Redaction.redactingJWTLike(in: "version 1.2.3 at example.com") == "version 1.2.3 at example.com")
    }
}
