import JSON

/// A user-data JWT that passed the client-side checks of the Mobile Messaging SDKs.
///
/// The client has no secret, so the signature is not verified here: the checks are
/// structure (three parts, base64url JSON header and payload, mandatory header fields
/// and claims present by key) and expiry, in the order and with the messages the
/// native SDKs use, so wrapper apps see exactly the codes they switch on.
public struct UserDataJWT: Sendable {
    /// Header fields that must be present, in the order they are checked.
    public static let mandatoryHeaders = ["alg", "typ", "kid"]
    /// Payload claims that must be present, in the order they are checked.
    public static let mandatoryClaims = ["typ", "sub", "infobip-api-key", "iat", "exp", "jti"]
    /// The longest token read, in UTF-8 bytes (8 KiB). Real tokens are a few hundred
    /// bytes; a longer one would become an oversized `Authorization` header (servers
    /// refuse those, and a huge one is memory and time spent on nothing), and it is
    /// refused before any other work is done on it.
    public static let maximumTokenBytes = 8192

    /// The compact token, to be sent as `Authorization: Bearer <token>` and nowhere else.
    public let token: String
    public let header: JSONObject
    public let claims: JSONObject
    /// `exp` in seconds since the epoch.
    public let expiresAt: Double

    /// The key id from the header; safe to log.
    public var keyID: String? { header["kid"]?.stringValue }
    /// The external user id the token was issued for (`sub`), when it is a string.
    public var subject: String? { claims["sub"]?.stringValue }

    /// Parses `token` and checks its structure, without looking at the clock: the size,
    /// then the table of `docs/contract/jwt.md` in order, with the character check after rows 1 and 2.
    ///
    /// - Throws: ``UserDataJWTError`` with ``UserDataJWTError/Code/structureInvalid``.
    public init(parsing token: String) throws(UserDataJWTError) {
        // First, and O(1) for a native string: nothing below runs on a huge token.
        guard token.utf8.count <= Self.maximumTokenBytes else { throw .structure(.tooLong(limit: Self.maximumTokenBytes)) }
        guard !Self.isBlank(token) else { throw .structure(.blank) }

        let parts = Self.parts(of: token)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { throw .structure(.parts) }
        // A line break, a space or a comma would go into the `Authorization` header as is
        // (header injection, or a header the HTTP stack refuses, quoting it in its error).
        guard token.utf8.allSatisfy(Self.isTokenByte) else { throw .structure(.characters) }

        guard let header = Self.decodeObject(parts[0]) else { throw .structure(.header) }
        if let missing = Self.mandatoryHeaders.first(where: { header[$0] == nil }) {
            throw .structure(.missingHeader(missing))
        }
        guard let claims = Self.decodeObject(parts[1]) else { throw .structure(.payload) }
        if let missing = Self.mandatoryClaims.first(where: { claims[$0] == nil }) {
            throw .structure(.missingClaim(missing))
        }
        guard let expiresAt = Self.numericValue(of: claims["exp"]) else { throw .structure(.expNotANumber) }

        self.token = token
        self.header = header
        self.claims = claims
        self.expiresAt = expiresAt
    }

    /// Parses `token` and checks structure, then expiry against `now` (no leeway).
    ///
    /// - Parameter now: the current time in seconds since the epoch (injectable for tests).
    public static func validate(_ token: String, now: Double) throws(UserDataJWTError) -> UserDataJWT {
        let jwt = try UserDataJWT(parsing: token)
        guard !jwt.isExpired(now: now) else { throw .expired }
        return jwt
    }

    /// Expired when `now >= exp`, as the SDKs check it.
    public func isExpired(now: Double) -> Bool { now >= expiresAt }

    /// Whether the token expires within `leeway` seconds of `now` (the provider asks early).
    public func expires(within leeway: Double, now: Double) -> Bool { now + leeway >= expiresAt }

    // MARK: - Decoding

    /// Whether `byte` may appear in a compact token: the base64url alphabet, `=`
    /// padding and the dots.
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        Base64URL.isAlphabet(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: ".")
    }

    static func isBlank(_ token: String) -> Bool {
        token.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    /// The dot-separated parts, empty ones kept. Tokens are ASCII in practice, and there
    /// splitting the bytes gives the same parts as splitting the characters, without the
    /// grapheme breaking that made this the hottest step of a refused `saveUser`.
    static func parts(of token: String) -> [Substring] {
        let utf8 = token.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else {
            return token.split(separator: ".", omittingEmptySubsequences: false)
        }
        var parts: [Substring] = []
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: ".") {
                parts.append(token[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        parts.append(token[start..<utf8.endIndex])
        return parts
    }

    static func decodeObject(_ part: Substring) -> JSONObject? {
        guard let bytes = Base64URL.decode(part),
            let value = try? JSONParser.parse(bytes),
            case .object(let object) = value
        else { return nil }
        return object
    }

    /// `exp` as the SDKs accept it: a JSON number, or a string holding a number.
    static func numericValue(of value: JSONValue?) -> Double? {
        switch value {
        case .number(let number): return number.doubleValue
        case .string(let text):
            guard let number = Double(text.trimmingWhitespace()), number.isFinite else { return nil }
            return number
        default: return nil
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return Substring(scalars[first...last])
    }
}
