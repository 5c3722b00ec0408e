import Foundation
import JSON
import Testing

@testable import MobileAPIServer

/// Every user-data authorization setting x every user-data endpoint x every way of
/// authenticating: the exact status and messageId (`docs/mmserver.md`, "User-data
/// authorization (per application profile)" and "Error codes").
@Suite("User-data authorization matrix")
struct AuthorizationMatrixTests {
    enum Endpoint: String, CaseIterable, Sendable {
        case getUser = "GET user"
        case patchUser = "PATCH user"
        case personalize = "personalize"
    }

    enum AuthCase: String, CaseIterable, Sendable {
        case app = "App auth"
        case valid = "valid JWT"
        case expired
        case wrongKid = "wrong kid"
        case revokedKid = "revoked kid"
        case badSignature = "bad signature"
        case algNone = "alg none"
        case algHS512 = "alg HS512"
        case wrongApplication = "wrong infobip-api-key"
        case subMismatch = "sub mismatch"
        case subNumber = "sub as a number"
        case missingClaims = "missing claims"
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var setting: UserDataAuthorization
        var endpoint: Endpoint
        var auth: AuthCase
        var testDescription: String { "\(setting.rawValue) / \(endpoint.rawValue) / \(auth.rawValue)" }
    }

    static let cases: [Case] = UserDataAuthorization.allCases.flatMap { setting in
        Endpoint.allCases.flatMap { endpoint in AuthCase.allCases.map { Case(setting: setting, endpoint: endpoint, auth: $0) } }
    }

    /// What each bad token gets wherever a token is looked at.
    static let tokenRefusals: [AuthCase: String] = [
        .expired: "ACCESS_TOKEN_EXPIRED",
        .wrongKid: "ACCESS_TOKEN_KEY_UNKNOWN",
        .revokedKid: "ACCESS_TOKEN_KEY_UNKNOWN",
        .badSignature: "ACCESS_TOKEN_INVALID",
        .algNone: "ACCESS_TOKEN_INVALID",
        .algHS512: "ACCESS_TOKEN_INVALID",
        .wrongApplication: "ACCESS_TOKEN_APPLICATION_MISMATCH",
        .subMismatch: "ACCESS_TOKEN_SUBJECT_MISMATCH",
        .subNumber: "ACCESS_TOKEN_INVALID",
        .missingClaims: "ACCESS_TOKEN_INVALID",
    ]

    /// The expected (status, messageId); a nil messageId is success.
    static func expected(_ c: Case) -> (Int, String?) {
        switch (c.setting, c.auth) {
        case (.disallowAll, _): (403, "USER_DATA_RESTRICTED")
        case (.jwtOnly, .app): (401, "ACCESS_TOKEN_MISSING")
        case (_, .app), (_, .valid): (200, nil)
        default: (401, tokenRefusals[c.auth])
        }
    }

    @Test(arguments: cases)
    func matrix(_ c: Case) async throws {
        let harness = try Harness()
        try await harness.run { client in
            let code = try await client.createApplication("matrix-app")
            let key = try await client.createKey(code)
            let revoked = try await client.createKey(code)
            #expect(try await client.admin(.delete, "/admin/applications/\(code)/keys/\(revoked.keyId)").status == 200)
            let pushRegId = try await client.register(code)
            // Alice owns the installation before the setting under test is switched on.
            let setup = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"])
            #expect(setup.status == 200)
            try await client.setAuthorization(code, c.setting)

            let token = Self.token(for: c.auth, client: client, code: code, key: key, revoked: revoked)
            let auth = c.auth == .app ? "App \(code)" : "Bearer \(token)"
            let reply: Reply =
                switch c.endpoint {
                case .getUser:
                    try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: auth)
                case .patchUser:
                    try await client.send(.patch, "/mobile/1/appinstance/\(pushRegId)/user", auth: auth, json: ["firstName": "Alice"])
                case .personalize:
                    try await client.personalize(pushRegId, auth: auth, identity: ["externalUserId": "alice"])
                }

            let (status, messageId) = Self.expected(c)
            #expect(reply.status == status, "\(reply.text)")
            #expect(reply.messageId == messageId, "\(reply.text)")
            if messageId == nil {
                #expect(reply.body["externalUserId"] == "alice")
                #expect(reply.body["instances"]?.arrayValue?.count == 1)
            }
            if !token.isEmpty {
                #expect(!reply.text.contains(token))
                #expect(!reply.text.contains(String(token.split(separator: ".").last ?? "")))
            }
        }
    }

    /// The token for each case: valid in every way but the one the case is about.
    static func token(for auth: AuthCase, client: Client, code: String, key: Client.Key, revoked: Client.Key) -> String {
        let now = Int(client.clock.now.timeIntervalSince1970)
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": .string(key.keyId)]
        var claims: JSONObject = [
            "typ": "Bearer", "sub": "alice", "infobip-api-key": .string(code), "iss": .string(code),
            "iat": .number(JSONNumber(now)), "exp": .number(JSONNumber(now + 60)), "jti": "3f1c0f9e-jti",
        ]
        func signed(_ header: JSONValue = header, key bytes: [UInt8] = key.bytes, _ algorithm: UserDataToken.Algorithm = .hs256) -> String {
            UserDataToken.sign(header: header, claims: .object(claims), key: bytes, algorithm: algorithm)
        }
        switch auth {
        case .app:
            return ""
        case .valid:
            return client.token(key, code: code, sub: "alice")
        case .expired:
            claims["iat"] = .number(JSONNumber(now - 120))
            claims["exp"] = .number(JSONNumber(now - 60))
            return signed()
        case .wrongKid:
            return signed(["alg": "HS256", "typ": "JWT", "kid": "no-such-key"])
        case .revokedKid:
            return signed(["alg": "HS256", "typ": "JWT", "kid": .string(revoked.keyId)], key: revoked.bytes)
        case .badSignature:
            return signed(key: Array(repeating: 7, count: 32))
        case .algNone:
            // Signed with the right key all the same: only the alg check can refuse it.
            return signed(["alg": "none", "typ": "JWT", "kid": .string(key.keyId)])
        case .algHS512:
            return signed(["alg": "HS512", "typ": "JWT", "kid": .string(key.keyId)], .hs512)
        case .wrongApplication:
            claims["infobip-api-key"] = "another-app"
            return signed()
        case .subMismatch:
            claims["sub"] = "mallory"
            return signed()
        case .subNumber:
            claims["sub"] = 42
            return signed()
        case .missingClaims:
            claims["jti"] = nil
            claims["exp"] = nil
            return signed()
        }
    }
}
