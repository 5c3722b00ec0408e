import Foundation
import JSON
import Testing

@testable import MobileAPIServer

/// Correctly signed tokens that must still be refused: a repeated member name in the
/// header or the payload, and a header `typ` other than `JWT`. The signature is good in
/// every case, so only the check under test can refuse them.
@Suite("Token strictness")
struct TokenStrictnessTests {
    /// The header and payload of a valid token for alice, as JSON text with `extra`
    /// members appended (written verbatim, so a name can appear twice).
    static func header(kid: String, extra: String = "") -> String {
        #"{"alg":"HS256","typ":"JWT","kid":"\#(kid)"\#(extra)}"#
    }

    static func payload(code: String, now: Int, extra: String = "") -> String {
        #"{"typ":"Bearer","sub":"alice","infobip-api-key":"\#(code)","iat":\#(now),"exp":\#(now + 60),"jti":"j-1"\#(extra)}"#
    }

    static func sign(header: String, payload: String, key: Client.Key) -> String {
        UserDataToken.sign(headerJSON: Array(header.utf8), claimsJSON: Array(payload.utf8), key: key.bytes)
    }

    /// Each case: where the repeated name is, and the JSON text appended there.
    static let duplicates: [(String, String)] = [
        ("payload", #","sub":"mallory""#),
        ("payload", #","exp":1"#),
        ("payload", #","typ":"Refresh""#),
        ("payload", #","infobip-api-key":"other-app""#),
        // The same name spelled with an escape is the same name.
        ("payload", #","s\u0075b":"mallory""#),
        // Repeated with the same value: still two readings of one token.
        ("payload", #","jti":"j-1""#),
        // Inside a claim of its own.
        ("payload", #","context":{"role":"user","role":"admin"}"#),
        ("header", #","alg":"none""#),
        ("header", #","kid":"another-key""#),
        ("header", #","typ":"JWT""#),
    ]

    @Test(arguments: duplicates)
    func repeatedMemberNameIsRefused(_ place: String, _ extra: String) async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await AccessTokenTests.setUp(client)
            let now = Int(client.clock.now.timeIntervalSince1970)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"

            let valid = Self.sign(header: Self.header(kid: key.keyId), payload: Self.payload(code: code, now: now), key: key)
            #expect(try await client.send(.get, path, auth: "Bearer \(valid)").status == 200, "the control token is valid")

            let token = Self.sign(
                header: Self.header(kid: key.keyId, extra: place == "header" ? extra : ""),
                payload: Self.payload(code: code, now: now, extra: place == "payload" ? extra : ""), key: key)
            for reply in [
                try await client.send(.get, path, auth: "Bearer \(token)"),
                try await client.send(.patch, path, auth: "Bearer \(token)", json: ["firstName": "Mallory"]),
                try await client.personalize(pushRegId, auth: "Bearer \(token)", identity: ["externalUserId": "alice"]),
            ] {
                #expect(reply.status == 401, "\(place) \(extra): \(reply.text)")
                #expect(reply.messageId == "ACCESS_TOKEN_DUPLICATE_MEMBER", "\(place) \(extra): \(reply.text)")
                #expect(!reply.text.contains(token) && !reply.text.contains(String(token.split(separator: ".")[1])))
            }
            let user = try await client.send(.get, path, auth: "Bearer \(valid)")
            #expect(user.body["firstName"] == nil, "nothing was changed")
        }
    }

    @Test(arguments: [#""JOSE""#, #""at+jwt""#, #""JWS""#, #""""#, "1", "null"])
    func headerTypOtherThanJWTIsRefused(_ typ: String) async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await AccessTokenTests.setUp(client)
            let now = Int(client.clock.now.timeIntervalSince1970)
            let token = Self.sign(
                header: #"{"alg":"HS256","typ":\#(typ),"kid":"\#(key.keyId)"}"#, payload: Self.payload(code: code, now: now),
                key: key)
            let reply = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            #expect(reply.status == 401, "typ \(typ): \(reply.text)")
            #expect(reply.messageId == "ACCESS_TOKEN_INVALID", "typ \(typ)")
            #expect(reply.errorText?.contains("typ") == true, "typ \(typ): \(reply.errorText ?? "")")
        }
    }

    /// RFC 7515 section 4.1.9: `typ` is compared without regard to case; absent is fine.
    @Test(arguments: [#","typ":"jwt""#, ""])
    func headerTypJWTInAnyCaseOrAbsentIsAccepted(_ typ: String) async throws {
        try await Harness().run { client in
            let (code, key, pushRegId) = try await AccessTokenTests.setUp(client)
            let now = Int(client.clock.now.timeIntervalSince1970)
            let token = Self.sign(
                header: #"{"alg":"HS256","kid":"\#(key.keyId)"\#(typ)}"#, payload: Self.payload(code: code, now: now), key: key)
            let reply = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(token)")
            #expect(reply.status == 200, "\(reply.text)")
        }
    }
}
