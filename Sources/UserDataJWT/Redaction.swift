import JSON

/// Keeps tokens out of errors, events and logs.
///
/// What may be shown of a token is its header's `kid` and the names of its claims;
/// everything else (the signature above all, but also `sub` and the raw text) stays out.
public enum Redaction {
    /// A loggable summary, e.g. `JWT(kid: key-1, claims: exp,iat,infobip-api-key,jti,sub,typ)`,
    /// or `JWT(unparseable, 245 bytes)` when the token cannot be read.
    public static func summary(of token: String) -> String {
        guard let jwt = try? UserDataJWT(parsing: token) else {
            return "JWT(unparseable, \(token.utf8.count) bytes)"
        }
        let claims = jwt.claims.keys.sorted().joined(separator: ",")
        return "JWT(kid: \(jwt.keyID ?? "?"), claims: \(claims))"
    }

    /// `text` with every occurrence of `token` (and of each of its three parts, in case a
    /// part was echoed alone) replaced by `[REDACTED JWT]`.
    public static func redact(_ token: String, in text: String) -> String {
        guard !token.isEmpty else { return text }
        var result = text.replacing(token, with: "[REDACTED JWT]")
        for part in token.split(separator: ".") where part.count >= 8 {
            result = result.replacing(part, with: "[REDACTED]")
        }
        return result
    }

    /// Whether `text` holds anything that looks like a compact JWT (three base64url parts,
    /// the first decoding to a JSON object): a last line of defence before a line is logged.
    public static func containsJWTLike(_ text: String) -> Bool {
        for word in text.split(whereSeparator: { !isTokenCharacter($0) }) {
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count >= 8 else { continue }
            if let bytes = Base64URL.decode(parts[0]), case .object? = try? JSONParser.parse(bytes) {
                return true
            }
        }
        return false
    }

    private static func isTokenCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." || c == "=")
    }
}
