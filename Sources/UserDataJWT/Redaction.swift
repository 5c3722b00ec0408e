import JSON

/// Keeps tokens out of errors, events and logs.
///
/// What may be shown of a token is its header's `kid` and the names of its claims;
/// everything else (the signature above all, but also `sub` and the raw text) stays out.
public enum Redaction {
    /// Fragments of a token at least this long are recognised wherever they appear.
    /// Shorter ones carry too little of a token to matter, and longer would let a
    /// token echoed with a separator every few characters through.
    public static let fragmentLength = 6

    /// A loggable summary, e.g. `JWT(kid: key-1, claims: exp,iat,infobip-api-key,jti,sub,typ)`,
    /// or `JWT(unparseable, 245 bytes)` when the token cannot be read.
    public static func summary(of token: String) -> String {
        guard let jwt = try? UserDataJWT(parsing: token) else {
            return "JWT(unparseable, \(token.utf8.count) bytes)"
        }
        let claims = jwt.claims.keys.sorted().joined(separator: ",")
        return "JWT(kid: \(jwt.keyID ?? "?"), claims: \(claims))"
    }

    /// `text` with every occurrence of `token` replaced by `[REDACTED JWT]`, and every
    /// other run of ``fragmentLength`` or more of its base64url characters by
    /// `[REDACTED]`.
    ///
    /// The second step is what keeps a token out when it does not come back verbatim: a
    /// part echoed alone, a token cut by a length limit, escaped by a debug description
    /// (`\n` for a line break), or with its line breaks turned into spaces. Splitting the
    /// token on its dots alone left such a signature whole in the text.
    public static func redact(_ token: String, in text: String) -> String {
        guard !token.isEmpty else { return text }
        let whole = text.replacing(token, with: "[REDACTED JWT]")
        return redactingFragments(of: token, in: whole)
    }

    /// `text` with each word that looks like a JWT replaced by `[REDACTED JWT]`: any
    /// token, not only the session's (a server may echo another one). A word is a run of
    /// base64url characters, `=` and dots; it looks like a JWT when one of its dot parts
    /// is the base64url of a JSON object's start (`eyJ`, 10 characters or more), or when
    /// it has three parts and the first decodes to a JSON object.
    public static func redactingJWTLike(in text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        var changed = false
        while index < bytes.count {
            guard UserDataJWT.isTokenByte(bytes[index]) else {
                output.append(bytes[index])
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, UserDataJWT.isTokenByte(bytes[end]) { end += 1 }
            // A sentence's full stop is not part of the token before it.
            var wordEnd = end
            while wordEnd > index, bytes[wordEnd - 1] == UInt8(ascii: ".") { wordEnd -= 1 }
            if isJWTLike(bytes[index..<wordEnd]) {
                output.append(contentsOf: "[REDACTED JWT]".utf8)
                output.append(contentsOf: bytes[wordEnd..<end])
                changed = true
            } else {
                output.append(contentsOf: bytes[index..<end])
            }
            index = end
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
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

    // MARK: - Fragments

    /// Marks every run of `fragmentLength` base64url bytes of `text` that also occurs in
    /// `token`, then replaces each marked span by `[REDACTED]`. Linear in both: each run
    /// of 6 ASCII bytes is packed into one integer and looked up in a set.
    static func redactingFragments(of token: String, in text: String) -> String {
        let length = fragmentLength
        var grams = Set<UInt64>()
        forEachGram(token.utf8, length: length) { gram, _ in grams.insert(gram) }
        guard !grams.isEmpty else { return text }

        let bytes = Array(text.utf8)
        var marked = [Bool](repeating: false, count: bytes.count)
        var found = false
        forEachGram(bytes, length: length) { gram, end in
            guard grams.contains(gram) else { return }
            for position in (end - length + 1)...end { marked[position] = true }
            found = true
        }
        guard found else { return text }

        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if marked[index] {
                output.append(contentsOf: "[REDACTED]".utf8)
                while index < bytes.count, marked[index] { index += 1 }
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Calls `body` with each run of `length` consecutive base64url bytes, packed, and
    /// the offset of its last byte.
    private static func forEachGram(_ bytes: some Sequence<UInt8>, length: Int, _ body: (UInt64, Int) -> Void) {
        let mask: UInt64 = length >= 8 ? .max : (1 << (8 * UInt64(length))) - 1
        var gram: UInt64 = 0
        var run = 0
        for (offset, byte) in bytes.enumerated() {
            guard Base64URL.isAlphabet(byte) else {
                run = 0
                continue
            }
            gram = (gram << 8 | UInt64(byte)) & mask
            run += 1
            if run >= length { body(gram, offset) }
        }
    }

    // MARK: - Character classes

    private static func isJWTLike(_ word: ArraySlice<UInt8>) -> Bool {
        let parts = word.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if parts.contains(where: { $0.count >= 10 && $0.starts(with: "eyJ".utf8) }) { return true }
        guard parts.count == 3, parts[0].count >= 8,
            let header = Base64URL.decode(String(decoding: parts[0], as: UTF8.self)),
            case .object? = try? JSONParser.parse(header)
        else { return false }
        return true
    }

    private static func isTokenCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." || c == "=")
    }
}
