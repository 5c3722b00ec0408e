import Crypto
import Foundation
import JSON
import JWTKit

/// Server-side verification of a user-data JWT (docs/mmserver.md), one refusal code per failure.
///
/// The order is fixed so that nothing about a token is trusted before its signature is:
/// structure and `alg` (read by us, so `none` or another algorithm can never reach a
/// library default), then the key id among this application's active keys, then the
/// HMAC (jwt-kit, constant-time), then the claims. The subject is compared later, by the
/// operation, against the user it acts on.
struct AccessTokenVerifier: Sendable {
    /// How far in the future `iat` may be, for clocks that disagree a little.
    static let issuedAtSkew: TimeInterval = 60

    let now: @Sendable () -> Date

    /// Returns the token's `sub` once everything but the subject has been checked.
    func verify(
        _ token: String, application: ApplicationRecord,
        activeKey: @Sendable (String) async throws -> SecretKeyRecord?
    ) async throws -> String {
        // 1. Structure: three base64url parts, header and claims JSON objects.
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ServiceError.accessTokenInvalid("not three dot-separated parts")
        }
        guard UserDataToken.decodeBase64URL(parts[2]) != nil else {
            throw ServiceError.accessTokenInvalid("signature is not base64url")
        }
        guard let headerBytes = UserDataToken.decodeBase64URL(parts[0]),
            let header = try? JSONParser.parse(headerBytes).objectValue
        else { throw ServiceError.accessTokenInvalid("header is not base64url-encoded JSON") }
        guard let payloadBytes = UserDataToken.decodeBase64URL(parts[1]),
            let payload = try? JSONParser.parse(payloadBytes).objectValue
        else { throw ServiceError.accessTokenInvalid("payload is not base64url-encoded JSON") }
        // A repeated member name is read as its first copy by jwt-kit and as its last by
        // JavaScript or Python, so two verifiers could disagree on `sub` or `exp`: refuse
        // it (RFC 7519 section 4) before any library reads the token.
        guard !Self.repeatsMemberName(.object(header)), !Self.repeatsMemberName(.object(payload)) else {
            throw ServiceError.accessTokenDuplicateMember
        }

        // 2. Algorithm: exactly HS256, whatever else the header claims.
        guard header["alg"]?.stringValue == "HS256" else {
            throw ServiceError.accessTokenInvalid("alg must be HS256")
        }
        if let typ = header["typ"], typ.stringValue?.uppercased() != "JWT" {
            throw ServiceError.accessTokenInvalid("header typ must be JWT")
        }
        guard let kid = header["kid"]?.stringValue, !kid.isEmpty else {
            throw ServiceError.accessTokenInvalid("header kid is missing")
        }

        // 3. Key: an active key of this application.
        guard let key = try await activeKey(kid), key.applicationCode == application.code,
            key.revokedAt == nil, let secret = UserDataToken.decodeHex(key.secret)
        else { throw ServiceError.accessTokenKeyUnknown }

        // 4. Signature and claim types, by jwt-kit with this one key.
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: SymmetricKey(data: secret)), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let claims: UserDataClaims
        do {
            claims = try await keys.verify(token, as: UserDataClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw ServiceError.accessTokenInvalid("signature does not verify")
        } catch {
            throw ServiceError.accessTokenInvalid(
                "claims typ, sub, infobip-api-key, jti (strings) and iat, exp (numbers) are required")
        }

        // 5. Claims.
        guard claims.typ == "Bearer" else { throw ServiceError.accessTokenInvalid("claim typ must be Bearer") }
        guard claims.infobipAPIKey == application.code else { throw ServiceError.accessTokenApplicationMismatch }
        let now = self.now().timeIntervalSince1970
        guard claims.exp > now else { throw ServiceError.accessTokenExpired }
        guard claims.iat <= now + Self.issuedAtSkew else { throw ServiceError.accessTokenNotYetValid }
        return claims.sub
    }

    /// Whether any object in `value`, at any depth, has two members with the same name.
    /// Our parser keeps every copy (``JSONObject/members``), so this sees what was sent.
    static func repeatsMemberName(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object):
            var seen = Set<String>()
            for member in object.members {
                guard seen.insert(member.key).inserted else { return true }
                if repeatsMemberName(member.value) { return true }
            }
            return false
        case .array(let elements):
            return elements.contains { repeatsMemberName($0) }
        default:
            return false
        }
    }
}

/// The claims a user-data JWT must carry, with their types. Decoding fails (and the token
/// is refused) when one is missing or of another type, `sub` as a number included.
struct UserDataClaims: JWTPayload {
    var typ: String
    var sub: String
    var infobipAPIKey: String
    var iat: Double
    var exp: Double
    var jti: String

    enum CodingKeys: String, CodingKey {
        case typ, sub, iat, exp, jti
        case infobipAPIKey = "infobip-api-key"
    }

    /// Claims are checked by ``AccessTokenVerifier`` afterwards, each with its own code.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
