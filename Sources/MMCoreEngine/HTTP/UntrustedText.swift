import UserDataJWT

/// What the Mobile API, or whatever answered in its place, sends back: made safe to put
/// into an error, an event or a log line (`docs/contract/mobile-api.md`, "Talking to the Mobile
/// API").
///
/// The order matters: JWTs are redacted first, on the text as received, then control
/// characters go, then the text is cut. Cutting first would leave a token straddling
/// the cut unrecognisable and most of its signature in the output.
enum UntrustedText {
    /// The longest server code used as `data.code`; longer ones are not codes.
    static let codeLimit = 128
    /// The longest server `text` kept as a description.
    static let textLimit = 1024
    /// How much of a long text or body is read at all: twice the largest token the
    /// client sends, so a token echoed anywhere in it is seen whole.
    static let window = 2 * UserDataJWT.maximumTokenBytes

    /// `raw` as a server code for `data.code`, or `nil` when it is not one: 1 to 128
    /// characters of `A-Z`, `0-9`, `_`, `.` and `-`. Anything else (a line break, a
    /// token, lower case, 1 MB of text) is not passed on as something apps switch on.
    static func code(_ raw: String) -> String? {
        let utf8 = raw.utf8
        guard (1...codeLimit).contains(utf8.count), utf8.allSatisfy(isCodeByte) else { return nil }
        return raw
    }

    /// One line of printable text: every JWT redacted (the session's `token`, even in
    /// pieces, and anything that looks like a JWT), control, format and space characters
    /// turned into single spaces, trimmed, and cut at `limit` characters (then `…`).
    static func line(_ raw: String, token: String?, limit: Int) -> String {
        let (text, _) = windowed(raw.utf8)
        return printable(redacted(text, token: token), limit: limit)
    }

    /// ``line(_:token:limit:)`` of a response body that is not the Mobile API's JSON,
    /// with HTML tags dropped when `html` (a proxy's or portal's page).
    static func excerpt(_ body: [UInt8], token: String?, limit: Int, html: Bool) -> String {
        var (text, _) = windowed(body)
        if html || text.hasPrefix("<") { text = strippingTags(text) }
        return printable(redacted(text, token: token), limit: limit)
    }

    // MARK: - Steps

    /// At most ``window`` bytes. When the input was longer, a run of token characters
    /// at the cut is dropped: it may be the start of a token whose rest is not here, and
    /// a token not seen whole could not be recognised.
    static func windowed(_ bytes: some Collection<UInt8>) -> (String, cut: Bool) {
        guard bytes.count > window else { return (String(decoding: bytes, as: UTF8.self), false) }
        var prefix = Array(bytes.prefix(window))
        while let last = prefix.last, UserDataJWT.isTokenByte(last) { prefix.removeLast() }
        return (String(decoding: prefix, as: UTF8.self), true)
    }

    /// Whole JWTs first, any of them, while they are still whole; then what is left of
    /// the session's token (pieces, escaped or split copies).
    static func redacted(_ text: String, token: String?) -> String {
        let result = Redaction.redactingJWTLike(in: text)
        guard let token, !token.isEmpty else { return result }
        return Redaction.redact(token, in: result)
    }

    static func printable(_ text: String, limit: Int) -> String {
        var result = ""
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            if isSpaceLike(scalar) {
                if !lastWasSpace { result.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                result.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        if result.hasSuffix(" ") { result.removeLast() }
        if result.count > limit { result = String(result.prefix(limit)) + "…" }
        return result
    }

    static func strippingTags(_ html: String) -> String {
        var result = ""
        var inTag = false
        for character in html {
            switch character {
            case "<": inTag = true; result.append(" ")
            case ">": inTag = false
            default: if !inTag { result.append(character) }
            }
        }
        return result
    }

    // MARK: - Character classes

    /// C0 and C1 controls (CR, LF, ESC, CSI...), format characters (bidi overrides,
    /// zero-width spaces) and every kind of space or line separator.
    static func isSpaceLike(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator: true
        default: scalar.properties.isWhitespace
        }
    }

    static func isCodeByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default: false
        }
    }

}
