import Foundation
import HTTPTypes
import JSON
import Testing

@testable import MobileAPIServer

/// Registration, personalize, depersonalize, primary installations and merge conflicts.
@Suite("People and installations")
struct PeopleTests {
    @Test func registrationCreatesAnAnonymousLead() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let reply = try await client.send(
                .post, "/mobile/1/appinstance", auth: "App \(code)",
                json: ["os": "Android", "osVersion": "14", "notificationsEnabled": false, "pushServiceType": "Firebase"])
            #expect(reply.status == 201)
            let pushRegId = try #require(reply.body["pushRegId"]?.stringValue)
            #expect(reply.body["os"] == "Android")
            #expect(reply.body["notificationsEnabled"] == false)
            #expect(reply.body["regEnabled"] == true)
            #expect(reply.body["isPrimary"] == false)
            let user = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)")
            #expect(user.status == 200)
            #expect(user.body["type"] == "LEAD")
            #expect(user.body["externalUserId"] == nil)
            #expect(user.body["instances"]?.arrayValue?.first?["pushRegId"]?.stringValue == pushRegId)
            let installation = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)", auth: "App \(code)")
            #expect(installation.body == reply.body)
        }
    }

    @Test func personalizeWithoutMatchGivesTheIdentity() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let reply = try await client.personalize(
                pushRegId, auth: "App \(code)",
                identity: ["externalUserId": "alice", "emails": [["address": "alice@example.com"]], "phones": ["385911111111"]],
                attributes: ["firstName": "Alice", "customAttributes": ["plan": "gold"]])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.body["externalUserId"] == "alice")
            #expect(reply.body["type"] == "CUSTOMER")
            #expect(reply.body["firstName"] == "Alice")
            #expect(reply.body["emails"]?.arrayValue?.first?["address"] == "alice@example.com")
            #expect(reply.body["phones"]?.arrayValue?.first?["number"] == "385911111111")
            #expect(reply.body["customAttributes"] == ["plan": "gold"])
        }
    }

    @Test func keepAsLead() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let reply = try await client.personalize(
                pushRegId, auth: "App \(code)", identity: ["externalUserId": "lead"], query: "?keepAsLead=true")
            #expect(reply.body["type"] == "LEAD")
            #expect(reply.body["externalUserId"] == "lead")
            let bad = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "lead"], query: "?keepAsLead=maybe")
            #expect(bad.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    @Test func personalizeMovesTheInstallationToTheMatchingPerson() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let phone = try await client.register(code, ["os": "iOS"])
            let tablet = try await client.register(code, ["os": "Android"])
            _ = try await client.personalize(
                phone, auth: "App \(code)", identity: ["externalUserId": "alice", "emails": ["alice@example.com"]],
                attributes: ["lastName": "Smith"])
            // Matched by email alone.
            let reply = try await client.personalize(
                tablet, auth: "App \(code)", identity: ["emails": [["address": "ALICE@example.com"]]],
                attributes: ["firstName": "Alice"])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.body["externalUserId"] == "alice")
            #expect(reply.body["lastName"] == "Smith")
            #expect(reply.body["firstName"] == "Alice")
            let instances = reply.body["instances"]?.arrayValue?.compactMap { $0["pushRegId"]?.stringValue }
            #expect(Set(instances ?? []) == [phone, tablet])
            // The tablet's empty anonymous person is gone; alice is the only person.
            let people = try await client.admin(.get, "/admin/applications/\(code)/people")
            #expect(people.body.arrayValue?.count == 1)
        }
    }

    @Test func identityWithoutFieldsIsInvalid() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            for identity: JSONValue in [[:], ["externalUserId": ""], ["emails": []], ["externalUserId": nil]] {
                let reply = try await client.personalize(pushRegId, auth: "App \(code)", identity: identity)
                #expect(reply.status == 400, "\(identity)")
                #expect(reply.messageId == "USER_IDENTITY_INVALID")
                #expect(reply.errorText == "UserIdentity does not have any identity field set")
            }
            let missing = try await client.send(.post, "/mobile/1/appinstance/\(pushRegId)/personalize", auth: "App \(code)", json: [:])
            #expect(missing.messageId == "USER_IDENTITY_INVALID")
            let badEmail = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["emails": ["nope"]])
            #expect(badEmail.messageId == "EMAIL_INVALID")
            let identityField = try await client.personalize(
                pushRegId, auth: "App \(code)", identity: ["externalUserId": "a"], attributes: ["externalUserId": "b"])
            #expect(identityField.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    @Test func severalCandidatesAreAmbiguous() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let first = try await client.register(code)
            let second = try await client.register(code)
            let third = try await client.register(code)
            _ = try await client.personalize(first, auth: "App \(code)", identity: ["externalUserId": "alice"])
            _ = try await client.personalize(second, auth: "App \(code)", identity: ["emails": ["bob@example.com"]])
            let reply = try await client.personalize(
                third, auth: "App \(code)", identity: ["externalUserId": "alice", "emails": ["bob@example.com"]])
            #expect(reply.status == 409)
            #expect(reply.messageId == "AMBIGUOUS_PERSONALIZE_CANDIDATES")
            #expect(reply.errorText == "Several users satisfy supplied user identity")
        }
    }

    @Test func personalizedInstallationNeedsForceDepersonalize() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            _ = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"])
            let again = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"])
            #expect(again.status == 200)
            let refused = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "bob"])
            #expect(refused.status == 409)
            #expect(refused.messageId == "PERSONALIZATION_IMPOSSIBLE")
            #expect(refused.errorText == "Installation is not depersonalized. Personalization is prohibited")
            let forced = try await client.personalize(
                pushRegId, auth: "App \(code)", identity: ["externalUserId": "bob"], query: "?forceDepersonalize=true")
            #expect(forced.status == 200)
            #expect(forced.body["externalUserId"] == "bob")
            // Alice still exists, without the installation.
            let alice = try await client.admin(.get, "/admin/applications/\(code)/people/alice")
            #expect(alice.status == 200)
            #expect(alice.body["instances"] == [])
        }
    }

    @Test func mergeConflicts() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let first = try await client.register(code)
            let second = try await client.register(code)
            _ = try await client.personalize(
                first, auth: "App \(code)", identity: ["externalUserId": "alice", "emails": ["alice@example.com"], "phones": ["+385911111111"]])
            _ = try await client.personalize(second, auth: "App \(code)", identity: ["externalUserId": "bob"])
            let path = "/mobile/1/appinstance/\(second)/user"
            for body: JSONValue in [
                ["emails": [["address": "Alice@Example.com"]]], ["phones": [["number": "385911111111"]]], ["externalUserId": "alice"],
            ] {
                let reply = try await client.send(.patch, path, auth: "App \(code)", json: body)
                #expect(reply.status == 409, "\(body)")
                #expect(reply.messageId == "USER_MERGE_INTERRUPTED", "\(body)")
                #expect(reply.errorText == "User update violates unique key constraint")
            }
            // Nothing of a refused PATCH is kept.
            let partial = try await client.send(
                .patch, path, auth: "App \(code)", json: ["firstName": "Bob", "emails": ["alice@example.com"]])
            #expect(partial.status == 409)
            #expect(try await client.send(.get, path, auth: "App \(code)").body["firstName"] == nil)
            // Matched by email as alice but naming another external id.
            let third = try await client.register(code)
            let conflict = try await client.personalize(
                third, auth: "App \(code)", identity: ["externalUserId": "carol", "emails": ["alice@example.com"]])
            #expect(conflict.messageId == "USER_MERGE_INTERRUPTED")
        }
    }

    @Test func depersonalizeGivesANewAnonymousPerson() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            _ = try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"], attributes: ["firstName": "A"])
            let reply = try await client.send(.post, "/mobile/1/appinstance/\(pushRegId)/depersonalize", auth: "App \(code)")
            #expect(reply.status == 200)
            #expect(reply.body == [:])
            let user = try await client.send(.get, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)")
            #expect(user.body["externalUserId"] == nil)
            #expect(user.body["firstName"] == nil)
            #expect(user.body["type"] == "LEAD")
            // Personalizing as someone else now needs no force.
            #expect(try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "bob"]).status == 200)
            // Depersonalize is App only, whatever the setting.
            try await client.setAuthorization(code, .disallowAll)
            #expect(try await client.send(.post, "/mobile/1/appinstance/\(pushRegId)/depersonalize", auth: "App \(code)").status == 200)
        }
    }

    @Test func anotherInstallationOfTheSamePerson() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let phone = try await client.register(code)
            let tablet = try await client.register(code)
            let stranger = try await client.register(code)
            _ = try await client.personalize(phone, auth: "App \(code)", identity: ["externalUserId": "alice"])
            _ = try await client.personalize(tablet, auth: "App \(code)", identity: ["externalUserId": "alice"])
            let caller = HTTPFieldsBuilder.caller(phone)

            // Primary: one at a time.
            let tabletPrimary = try await client.send(
                .patch, "/mobile/1/appinstance/\(tablet)", auth: "App \(code)", json: ["isPrimary": true], headers: caller)
            #expect(tabletPrimary.status == 200)
            #expect(tabletPrimary.body["isPrimary"] == true)
            let phonePrimary = try await client.send(
                .patch, "/mobile/1/appinstance/\(phone)", auth: "App \(code)", json: ["isPrimary": true], headers: caller)
            #expect(phonePrimary.body["isPrimary"] == true)
            let user = try await client.send(.get, "/mobile/1/appinstance/\(phone)/user", auth: "App \(code)")
            let primaries = user.body["instances"]?.arrayValue?.filter { $0["isPrimary"] == true }.compactMap { $0["pushRegId"]?.stringValue }
            #expect(primaries == [phone])

            // A stranger's installation is off limits.
            let forbidden = try await client.send(
                .post, "/mobile/1/appinstance/\(stranger)/depersonalize", auth: "App \(code)", headers: caller)
            #expect(forbidden.status == 403)
            #expect(forbidden.messageId == "INSTALLATION_ACCESS_FORBIDDEN")
            let forbiddenPatch = try await client.send(
                .patch, "/mobile/1/appinstance/\(stranger)", auth: "App \(code)", json: ["isPrimary": true], headers: caller)
            #expect(forbiddenPatch.messageId == "INSTALLATION_ACCESS_FORBIDDEN")

            // The same person's other installation can be depersonalized from this one.
            let other = try await client.send(
                .post, "/mobile/1/appinstance/\(tablet)/depersonalize", auth: "App \(code)", headers: caller)
            #expect(other.status == 200)
            let after = try await client.send(.get, "/mobile/1/appinstance/\(phone)/user", auth: "App \(code)")
            #expect(after.body["instances"]?.arrayValue?.count == 1)
            // Now the tablet belongs to someone else.
            let again = try await client.send(
                .post, "/mobile/1/appinstance/\(tablet)/depersonalize", auth: "App \(code)", headers: caller)
            #expect(again.messageId == "INSTALLATION_ACCESS_FORBIDDEN")
        }
    }

    @Test func usersOfDifferentApplicationsAreSeparate() async throws {
        try await Harness().run { client in
            let first = try await client.createApplication()
            let second = try await client.createApplication()
            let a = try await client.register(first)
            let b = try await client.register(second)
            #expect(try await client.personalize(a, auth: "App \(first)", identity: ["externalUserId": "same", "emails": ["s@example.com"]]).status == 200)
            #expect(try await client.personalize(b, auth: "App \(second)", identity: ["externalUserId": "same", "emails": ["s@example.com"]]).status == 200)
            #expect(try await client.send(.get, "/mobile/1/appinstance/\(a)/user", auth: "App \(second)").messageId == "NO_REGISTRATION")
        }
    }
}

enum HTTPFieldsBuilder {
    static func caller(_ pushRegId: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.init("pushregistrationid")!] = pushRegId
        return fields
    }
}
