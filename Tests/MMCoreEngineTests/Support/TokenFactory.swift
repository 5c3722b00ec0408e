import JSON
import UserDataJWT

/// Builds compact user-data JWTs as an app's backend would (unsigned: the client never
/// checks the signature).
enum TokenFactory {
    static let now: Double = 1_800_000_000

    static func part(_ value: JSONValue) -> String { Base64URL.encode(value.serializedBytes) }

    static func token(sub: String = "ada", exp: Double = now + 300) -> String {
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": "key-1"]
        let claims: JSONValue = [
            "typ": "Bearer", "sub": .string(sub), "infobip-api-key": "app-1", "iat": .number(JSONNumber(now - 10)),
            "exp": .number(JSONNumber(exp)), "jti": "0b3f5a52-8d1e-4c59-9d7e-4f3e2f1a0c11",
        ]
        return "\(part(header)).\(part(claims)).c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
    }

    static var expired: String { token(exp: now - 60) }
}
