import Foundation
import HTTPTypes
import JSON
import Testing

@testable import MobileAPIServer

/// Personalize rules beyond PeopleTests: what a token may merge into under JWT_ONLY, and
/// `setDeviceAsPrimary`.
@Suite("Personalize rules")
struct PersonalizeRulesTests {
    /// An application whose anonymous lead (on its own installation) has a first name, an
    /// email and a phone, and whose customer `victim` has others; then JWT_ONLY.
    static func setUp(_ client: Client) async throws -> (code: String, key: Client.Key, lead: String, victim: String) {
        let code = try await client.createApplication("jwt-merge-app")
        let key = try await client.createKey(code)
        let lead = try await client.register(code)
        let patched = try await client.send(
            .patch, "/mobile/1/appinstance/\(lead)/user", auth: "App \(code)",
            json: ["firstName": "Lead", "emails": [["address": "lead@example.com"]], "phones": [["number": "385911111111"]]])
        #expect(patched.status == 200, "\(patched.text)")
        let victim = try await client.register(code)
        let personalized = try await client.personalize(
            victim, auth: "App \(code)",
            identity: ["externalUserId": "victim", "emails": ["victim@example.com"], "phones": ["385922222222"]],
            attributes: ["firstName": "Victim"])
        #expect(personalized.status == 200, "\(personalized.text)")
        try await client.setAuthorization(code, .jwtOnly)
        return (code, key, lead, victim)
    }

    @Test(arguments: [
        ["emails": [["address": "lead@example.com"]]],
        ["emails": ["LEAD@example.com"]],
        ["phones": ["+385911111111"]],
        ["emails": ["victim@example.com"]],
        ["phones": [["number": "385922222222"]]],
        ["emails": ["new@example.com", "lead@example.com"]],
    ] as [JSONObject])
    func tokenCannotMergeIntoAnotherPersonByContact(_ contacts: JSONObject) async throws {
        try await Harness().run { client in
            let (code, key, lead, victim) = try await Self.setUp(client)
            let intruder = try await client.register(code)
            let token = client.token(key, code: code, sub: "intruder")
            var identity: JSONObject = ["externalUserId": "intruder"]
            for (name, value) in contacts { identity[name] = value }
            for query in ["", "?forceDepersonalize=true", "?keepAsLead=true"] {
                let reply = try await client.personalize(
                    intruder, auth: "Bearer \(token)", identity: .object(identity), query: query)
                #expect(reply.status == 403, "\(contacts) \(query): \(reply.text)")
                #expect(reply.messageId == "PERSONALIZE_MERGE_FORBIDDEN", "\(contacts) \(query)")
                #expect(!reply.text.contains("Lead") && !reply.text.contains("Victim"), "nothing disclosed")
            }
            // Nothing moved: the lead and the victim keep their installations and data,
            // the intruder's installation its anonymous person, and "intruder" is nobody.
            let people = try await client.admin(.get, "/admin/applications/\(code)/people").body.arrayValue ?? []
            let leadPerson = people.first { $0["firstName"] == "Lead" }
            #expect(leadPerson?["externalUserId"] == nil)
            #expect(leadPerson?["instances"]?.arrayValue?.compactMap { $0["pushRegId"]?.stringValue } == [lead])
            let victimPerson = people.first { $0["externalUserId"] == "victim" }
            #expect(victimPerson?["instances"]?.arrayValue?.compactMap { $0["pushRegId"]?.stringValue } == [victim])
            #expect(!people.contains { $0["externalUserId"] == "intruder" })
            let installations = try await client.admin(.get, "/admin/applications/\(code)/installations").body
            let own = installations.arrayValue?.first { $0["pushRegId"]?.stringValue == intruder }
            #expect(own?["externalUserId"] == .null)
        }
    }

    @Test func tokenMayStillUseItsOwnContactsAndNewOnes() async throws {
        try await Harness().run { client in
            let (code, key, lead, _) = try await Self.setUp(client)
            // The subject's own person, found by its external user id and its own email.
            let device = try await client.register(code)
            let alice = client.token(key, code: code, sub: "alice")
            let first = try await client.personalize(
                device, auth: "Bearer \(alice)", identity: ["externalUserId": "alice", "emails": ["alice@example.com"]])
            #expect(first.status == 200, "\(first.text)")
            let second = try await client.register(code)
            let again = try await client.personalize(
                second, auth: "Bearer \(alice)",
                identity: ["externalUserId": "alice", "emails": ["alice@example.com", "alice2@example.com"]])
            #expect(again.status == 200, "\(again.text)")
            #expect(again.body["emails"]?.arrayValue?.count == 2)
            #expect(again.body["instances"]?.arrayValue?.count == 2)
            // The installation's own anonymous person is the caller's own: it takes the identity.
            let leadToken = client.token(key, code: code, sub: "lead-user")
            let own = try await client.personalize(
                lead, auth: "Bearer \(leadToken)", identity: ["externalUserId": "lead-user", "emails": ["lead@example.com"]])
            #expect(own.status == 200, "\(own.text)")
            #expect(own.body["firstName"] == "Lead")
            #expect(own.body["externalUserId"] == "lead-user")
        }
    }

    /// Under ALLOW_ALL the App key can do anything anyway: a contact still finds its person.
    @Test func allowAllStillMergesByContact() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let lead = try await client.register(code)
            _ = try await client.send(
                .patch, "/mobile/1/appinstance/\(lead)/user", auth: "App \(code)",
                json: ["firstName": "Lead", "emails": ["lead@example.com"]])
            let other = try await client.register(code)
            let reply = try await client.personalize(
                other, auth: "App \(code)", identity: ["externalUserId": "someone", "emails": ["lead@example.com"]])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.body["firstName"] == "Lead")
        }
    }

    // MARK: setDeviceAsPrimary

    static func primaries(_ reply: Reply) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for instance in reply.body["instances"]?.arrayValue ?? [] {
            if let id = instance["pushRegId"]?.stringValue { result[id] = instance["isPrimary"]?.boolValue }
        }
        return result
    }

    @Test func setDeviceAsPrimaryMakesThisTheOnlyPrimaryInstallation() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let phone = try await client.register(code, ["os": "iOS"])
            let tablet = try await client.register(code, ["os": "Android"])
            let identity: JSONValue = ["externalUserId": "alice"]

            let onPhone = try await client.personalize(phone, auth: "App \(code)", identity: identity, query: "?setDeviceAsPrimary=true")
            #expect(onPhone.status == 200, "\(onPhone.text)")
            #expect(Self.primaries(onPhone) == [phone: true])

            let onTablet = try await client.personalize(
                tablet, auth: "App \(code)", identity: identity, query: "?setDeviceAsPrimary=true&keepAsLead=false")
            #expect(onTablet.status == 200, "\(onTablet.text)")
            #expect(Self.primaries(onTablet) == [phone: false, tablet: true])

            // Without the flag (or false) nothing changes for the others; the moved one is reset.
            let again = try await client.personalize(phone, auth: "App \(code)", identity: identity, query: "?setDeviceAsPrimary=false")
            #expect(Self.primaries(again) == [phone: false, tablet: true])
            let back = try await client.personalize(phone, auth: "App \(code)", identity: identity, query: "?setDeviceAsPrimary=TRUE")
            #expect(Self.primaries(back) == [phone: true, tablet: false])
            let installation = try await client.send(.get, "/mobile/1/appinstance/\(tablet)", auth: "App \(code)")
            #expect(installation.body["isPrimary"] == false)

            let bad = try await client.personalize(phone, auth: "App \(code)", identity: identity, query: "?setDeviceAsPrimary=yes")
            #expect(bad.status == 400)
            #expect(bad.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    @Test func setDeviceAsPrimaryWithForceDepersonalizeAndAToken() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let key = try await client.createKey(code)
            let phone = try await client.register(code)
            _ = try await client.personalize(phone, auth: "App \(code)", identity: ["externalUserId": "bob"])
            try await client.setAuthorization(code, .jwtOnly)
            let carol = client.token(key, code: code, sub: "carol")
            let reply = try await client.personalize(
                phone, auth: "Bearer \(carol)", identity: ["externalUserId": "carol"],
                query: "?forceDepersonalize=true&setDeviceAsPrimary=true")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.body["externalUserId"] == "carol")
            #expect(Self.primaries(reply) == [phone: true])
        }
    }
}
