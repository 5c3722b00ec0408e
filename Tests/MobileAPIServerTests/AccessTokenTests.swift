import Foundation
import JSON
import Testing

@testable import MobileAPIServer

/// Token rules beyond the matrix: clock skew, typ, key rotation and revocation, keys of
/// other applications, and the subject rules of each operation.
@Suite("Access tokens")
struct AccessTokenTests {
    /// An ALLOW_ALL or JWT_ONLY app with one key and an installation personalized as alice.
    static func setUp(
        _ client: Client, _ setting: UserDataAuthorization = .jwtOnly
    ) async throws -> (code: String, key: Client.Key, pushRegId: String) {
        let code = try await client.createApplication("tokens-app")
        let key = try await client.createKey(code)
        let pushRegId = try await client.register(code)
        #expect(try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"]).status == 200)
        try await client.setAuthorization(code, setting)
        return (code, key, pushRegId)
    }

    static func claims(code: String, now: Int) -> JSONObject {
        [
            "typ": "Bearer", "sub": "alice", "infobip-api-key": .string(code), "iat": .number(JSONNumber(now)),
            "exp": .number(JSONNumber(now + 60)), "jti": "jti-1",
        ]
    }

    @Test func issuedAtSkewIsSixtySeconds() async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await Self.setUp(client)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            let slightlyAhead = client.token(key, code: code, sub: "alice", lifetime: 120, issuedAgo: -30)
            #expect(try await client.send(.get, path, auth: "Bearer \(slightlyAhead)").status == 200)
            let farAhead = client.token(key, code: code, sub: "alice", lifetime: 300, issuedAgo: -90)
            let reply = try await client.send(.get, path, auth: "Bearer \(farAhead)")
            #expect(reply.status == 401)
            #expect(reply.messageId == "ACCESS_TOKEN_NOT_YET_VALID")
        }
    }

    @Test func expiryHasNoLeeway() async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await Self.setUp(client)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            let token = client.token(key, code: code, sub: "alice", lifetime: 10)
            #expect(try await client.send(.get, path, auth: "Bearer \(token)").status == 200)
            client.clock.advance(10)  // now == exp
            let reply = try await client.send(.get, path, auth: "Bearer \(token)")
            #expect(reply.status == 401)
            #expect(reply.messageId == "ACCESS_TOKEN_EXPIRED")
        }
    }

    @Test(arguments: [
        ("typ claim not Bearer", #"{"typ":"Refresh"}"#),
        ("exp as a string", #"{"exp":"9999999999"}"#),
        ("iat missing", #"{"iat":null}"#),
        ("infobip-api-key missing", #"{"infobip-api-key":null}"#),
        ("typ missing", #"{"typ":null}"#),
    ])
    func invalidClaims(_ name: String, _ override: String) async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await Self.setUp(client)
            var claims = Self.claims(code: code, now: Int(client.clock.now.timeIntervalSince1970))
            for member in try JSONParser.parse(override).objectValue ?? [:] {
                claims[member.key] = member.value.isNull ? nil : member.value
            }
            let token = UserDataToken.sign(
                header: ["alg": "HS256", "typ": "JWT", "kid": .string(key.keyId)], claims: .object(claims), key: key.bytes)
            let reply = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            #expect(reply.status == 401, "\(name)")
            #expect(reply.messageId == "ACCESS_TOKEN_INVALID", "\(name)")
        }
    }

    @Test(arguments: [
        "garbage", "a.b", "a.b.c.d", "..", "e30.e30.", "!!!.e30.sig",
        // alg none with an empty signature: the classic forgery.
        UserDataToken.base64URL(Array(#"{"alg":"none","typ":"JWT","kid":"k"}"#.utf8)) + "."
            + UserDataToken.base64URL(Array(#"{"sub":"alice"}"#.utf8)) + ".",
        // header alg in another case
        UserDataToken.base64URL(Array(#"{"alg":"hs256","typ":"JWT","kid":"k"}"#.utf8)) + ".e30.c2ln",
    ])
    func malformedTokens(_ token: String) async throws {
        try await Harness().run { client in
            let (_, _, pushRegId) = try await Self.setUp(client)
            let reply = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            #expect(reply.status == 401)
            #expect(reply.messageId == "ACCESS_TOKEN_INVALID")
        }
    }

    @Test func keyOfAnotherApplicationIsUnknown() async throws {
        try await Harness().run { client in
            let (code, _, pushRegId) = try await Self.setUp(client)
            let other = try await client.createApplication("other-app")
            let otherKey = try await client.createKey(other)
            // Signed with the other app's key but claiming this app.
            let token = client.token(otherKey, code: code, sub: "alice")
            let reply = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            #expect(reply.status == 401)
            #expect(reply.messageId == "ACCESS_TOKEN_KEY_UNKNOWN")
        }
    }

    @Test func severalActiveKeysAndImmediateRevocation() async throws {
        try await Harness().run { client in
            let (code, first, pushRegId) = try await Self.setUp(client)
            let second = try await client.createKey(code)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            let firstToken = client.token(first, code: code, sub: "alice")
            let secondToken = client.token(second, code: code, sub: "alice")
            #expect(try await client.send(.get, path, auth: "Bearer \(firstToken)").status == 200)
            #expect(try await client.send(.get, path, auth: "Bearer \(secondToken)").status == 200)

            let revoke = try await client.admin(.delete, "/admin/applications/\(code)/keys/\(first.keyId)")
            #expect(revoke.status == 200)
            #expect(revoke.body["revoked"] == true)
            let refused = try await client.send(.get, path, auth: "Bearer \(firstToken)")
            #expect(refused.messageId == "ACCESS_TOKEN_KEY_UNKNOWN")
            #expect(try await client.send(.get, path, auth: "Bearer \(secondToken)").status == 200)

            let keys = try await client.admin(.get, "/admin/applications/\(code)/keys")
            #expect(keys.body.arrayValue?.count == 2)
            #expect(keys.body.arrayValue?.first?["revoked"] == true)
            #expect(!keys.text.contains(first.secret))
        }
    }

    @Test func anonymousInstallationHasNoSubjectUnderJWTOnly() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication("anon-app", authorization: .jwtOnly)
            let key = try await client.createKey(code)
            let pushRegId = try await client.register(code)
            let token = client.token(key, code: code, sub: "alice")
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            #expect(try await client.send(.get, path, auth: "Bearer \(token)").messageId == "ACCESS_TOKEN_SUBJECT_MISMATCH")
            #expect(
                try await client.send(.patch, path, auth: "Bearer \(token)", json: ["firstName": "A"]).messageId
                    == "ACCESS_TOKEN_SUBJECT_MISMATCH")
            // Personalize is how an anonymous installation gets its subject.
            let personalized = try await client.personalize(pushRegId, auth: "Bearer \(token)", identity: ["externalUserId": "alice"])
            #expect(personalized.status == 200)
            #expect(try await client.send(.get, path, auth: "Bearer \(token)").status == 200)
        }
    }

    @Test func personalizeSubjectIsTheIdentity() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication("ident-app", authorization: .jwtOnly)
            let key = try await client.createKey(code)
            let pushRegId = try await client.register(code)
            let token = client.token(key, code: code, sub: "alice")
            let emailOnly = try await client.personalize(
                pushRegId, auth: "Bearer \(token)", identity: ["emails": [["address": "alice@example.com"]]])
            #expect(emailOnly.status == 401)
            #expect(emailOnly.messageId == "ACCESS_TOKEN_SUBJECT_MISMATCH")
            let bob = try await client.personalize(pushRegId, auth: "Bearer \(token)", identity: ["externalUserId": "bob"])
            #expect(bob.messageId == "ACCESS_TOKEN_SUBJECT_MISMATCH")
        }
    }

    @Test func externalUserIdChangesOnlyByPersonalizeUnderJWTOnly() async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await Self.setUp(client, .jwtOnly)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            let alice = client.token(key, code: code, sub: "alice")
            let change = try await client.send(.patch, path, auth: "Bearer \(alice)", json: ["externalUserId": "alice2"])
            #expect(change.status == 403)
            #expect(change.messageId == "EXTERNAL_USER_ID_CHANGE_FORBIDDEN")
            let removal = try await client.send(.patch, path, auth: "Bearer \(alice)", json: ["externalUserId": nil])
            #expect(removal.messageId == "EXTERNAL_USER_ID_CHANGE_FORBIDDEN")
            // Sending the same id is not a change.
            let same = try await client.send(.patch, path, auth: "Bearer \(alice)", json: ["externalUserId": "alice", "lastName": "L"])
            #expect(same.status == 200)
            // A token for the new id does not act on alice either.
            let alice2 = client.token(key, code: code, sub: "alice2")
            let other = try await client.send(.patch, path, auth: "Bearer \(alice2)", json: ["externalUserId": "alice2"])
            #expect(other.messageId == "ACCESS_TOKEN_SUBJECT_MISMATCH")
        }
    }

    @Test func allowAllPatchSettingExternalUserIdActsOnTheNewId() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication("allow-app", authorization: .allowAll)
            let key = try await client.createKey(code)
            let pushRegId = try await client.register(code)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            let carol = client.token(key, code: code, sub: "carol")
            let reply = try await client.send(.patch, path, auth: "Bearer \(carol)", json: ["externalUserId": "carol"])
            #expect(reply.status == 200)
            #expect(reply.body["externalUserId"] == "carol")
            let dave = client.token(key, code: code, sub: "dave")
            let refused = try await client.send(.patch, path, auth: "Bearer \(carol)", json: ["externalUserId": "dave"])
            #expect(refused.messageId == "ACCESS_TOKEN_SUBJECT_MISMATCH")
            #expect(try await client.send(.patch, path, auth: "Bearer \(dave)", json: ["externalUserId": "dave"]).status == 200)
        }
    }

    @Test func mintedTokenHasTheDocumentedShape() throws {
        let token = try UserDataToken.mint(
            keyId: "kid-1", secretHex: String(repeating: "ab", count: 32), applicationCode: "app", subject: "alice",
            lifetime: 30, issuedAt: Date(timeIntervalSince1970: 1_700_000_000))
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        #expect(!token.contains("="))
        let header = try JSONParser.parse(UserDataToken.decodeBase64URL(parts[0]) ?? [])
        let claims = try JSONParser.parse(UserDataToken.decodeBase64URL(parts[1]) ?? [])
        #expect(header == ["alg": "HS256", "typ": "JWT", "kid": "kid-1"])
        #expect(claims["typ"] == "Bearer")
        #expect(claims["sub"] == "alice")
        #expect(claims["infobip-api-key"] == "app")
        #expect(claims["iss"] == "app")
        #expect(claims["iat"] == 1_700_000_000)
        #expect(claims["exp"] == 1_700_000_030)
        #expect(claims["jti"]?.stringValue?.isEmpty == false)
        #expect(throws: UserDataToken.MintError.self) {
            try UserDataToken.mint(keyId: "k", secretHex: "xyz", applicationCode: "a", subject: "s")
        }
        #expect(throws: UserDataToken.MintError.self) {
            try UserDataToken.mint(keyId: "k", secretHex: "abcd", applicationCode: "a", subject: "s")
        }
    }

    @Test func adminMintedTokenIsAccepted() async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await Self.setUp(client)
            let minted = try await client.admin(.post, "/admin/applications/\(code)/tokens", json: ["externalUserId": "alice"])
            #expect(minted.status == 200)
            #expect(minted.body["keyId"]?.stringValue == key.keyId)
            let token = try #require(minted.body["token"]?.stringValue)
            #expect(try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)").status == 200)
            let short = try await client.admin(
                .post, "/admin/applications/\(code)/tokens",
                json: ["externalUserId": "alice", "keyId": .string(key.keyId), "lifetimeSeconds": -5])
            let expired = try #require(short.body["token"]?.stringValue)
            #expect(
                try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(expired)").messageId
                    == "ACCESS_TOKEN_EXPIRED")
            let unknownKey = try await client.admin(
                .post, "/admin/applications/\(code)/tokens", json: ["externalUserId": "alice", "keyId": "nope"])
            #expect(unknownKey.status == 404)
            #expect(unknownKey.messageId == "KEY_NOT_FOUND")
        }
    }
}
