import Crypto
import Foundation
import JSON

/// Minting user-data JWTs the way an app's backend does (docs/mmserver.md, "Tokens"), for `mmserver jwt`,
/// the admin API's token endpoint, demos and tests.
///
/// The signing is written out here over swift-crypto rather than taken from jwt-kit,
/// so that tests can also build the malformed tokens a verifier must refuse (another
/// algorithm, a forged header) and so that verification (jwt-kit) and minting are
/// two independent implementations checking each other.
public enum UserDataToken {
    public enum MintError: Error, CustomStringConvertible {
        case secretNotHex
        case secretTooShort

        public var description: String {
            switch self {
            case .secretNotHex: "the secret must be hexadecimal text (the secret shown when the key was created)"
            case .secretTooShort: "the secret must be at least 32 bytes (64 hex characters)"
            }
        }
    }

    /// A signed token: header `{alg: HS256, typ: JWT, kid}`, claims `typ: Bearer`, `sub`,
    /// `infobip-api-key`, `iss`, `iat`, `exp`, `jti`.
    public static func mint(
        keyId: String, secretHex: String, applicationCode: String, subject: String,
        lifetime: Int = 60, issuedAt: Date = Date()
    ) throws(MintError) -> String {
        guard let key = decodeHex(secretHex) else { throw .secretNotHex }
        guard key.count >= 32 else { throw .secretTooShort }
        let iat = Int(issuedAt.timeIntervalSince1970.rounded(.down))
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": .string(keyId)]
        let claims: JSONValue = [
            "typ": "Bearer",
            "sub": .string(subject),
            "infobip-api-key": .string(applicationCode),
            "iss": .string(applicationCode),
            "iat": .number(JSONNumber(iat)),
            "exp": .number(JSONNumber(iat + lifetime)),
            "jti": .string(UUID().uuidString.lowercased()),
        ]
        return sign(header: header, claims: claims, key: key)
    }

    public enum Algorithm: Sendable {
        case hs256
        case hs384
        case hs512
        /// No signature at all: the empty third part of an `alg: none` token.
        case none
    }

    /// Encodes and signs any header and claims, whatever they say. `algorithm` is only
    /// how the signature is computed; the header's `alg` is whatever `header` holds.
    public static func sign(header: JSONValue, claims: JSONValue, key: [UInt8], algorithm: Algorithm = .hs256) -> String {
        sign(headerJSON: header.serializedBytes, claimsJSON: claims.serializedBytes, key: key, algorithm: algorithm)
    }

    /// Signs header and claims given as JSON text, byte for byte: tests use it for what
    /// a ``JSONValue`` cannot hold, such as a member name written twice.
    public static func sign(headerJSON: [UInt8], claimsJSON: [UInt8], key: [UInt8], algorithm: Algorithm = .hs256) -> String {
        let input = base64URL(headerJSON) + "." + base64URL(claimsJSON)
        let symmetricKey = SymmetricKey(data: key)
        let data = Array(input.utf8)
        let signature: [UInt8] =
            switch algorithm {
            case .hs256: Array(HMAC<SHA256>.authenticationCode(for: data, using: symmetricKey))
            case .hs384: Array(HMAC<SHA384>.authenticationCode(for: data, using: symmetricKey))
            case .hs512: Array(HMAC<SHA512>.authenticationCode(for: data, using: symmetricKey))
            case .none: []
            }
        return input + "." + base64URL(signature)
    }

    // MARK: Encoding

    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Base64url with or without `=` padding; `nil` for anything else.
    static func decodeBase64URL(_ text: Substring) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "=") })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 = base64.replacingOccurrences(of: "=", with: "")
        if base64.count % 4 == 1 { return nil }
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }

    /// Hex text (either case) to bytes; `nil` for odd length or a non-hex character.
    public static func decodeHex(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
