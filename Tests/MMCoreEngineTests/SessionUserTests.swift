import JSON
import Testing

@testable import MMCoreEngine

@Suite struct SessionUserTests {
    @Test func saveUserSendsOnlyChangesAndReturnsTheServersCopy() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let personalized = try await session.personalize(
            ["userIdentity": ["externalUserId": "ada"], "userAttributes": ["firstName": "Ada", "customAttributes": ["plan": "silver"]]])
        #expect(personalized["type"] == "CUSTOMER")
        let before = harness.api.requestCount

        let saved = try await session.saveUser(
            ["externalUserId": "ada", "firstName": "Ada", "lastName": "Lovelace", "emails": ["ada@example.com"], "customAttributes": ["plan": "gold"]])
        let sent = harness.api.requests(since: before)
        #expect(sent.map(\.summary) == ["PATCH /mobile/1/appinstance/reg-1/user", "GET /mobile/1/appinstance/reg-1/user"])
        #expect(
            sent[0].body
                == ["lastName": "Lovelace", "emails": [["address": "ada@example.com"]], "customAttributes": ["plan": "gold"]])
        #expect(saved["lastName"] == "Lovelace")
        #expect(saved["emails"] == ["ada@example.com"])
        #expect(saved["firstName"] == "Ada")
        #expect(saved["installations"]?.arrayValue?.first?["pushRegistrationId"] == "reg-1")
        #expect(try await session.getUser() == saved)
        #expect(harness.events.named(.userUpdated).last?.payload == saved)

        // The same save again changes nothing: no request, no event.
        let events = harness.events.all.count
        let again = try await session.saveUser(["lastName": "Lovelace", "customAttributes": ["plan": "gold"]])
        #expect(again == saved)
        #expect(harness.api.requestCount == before + 2)
        #expect(harness.events.all.count == events)
        await harness.cleanUp(session)
    }

    @Test func saveUserUsesTheUserInThePatchAnswerWhenThereIsOne() async throws {
        let harness = SessionHarness()
        harness.api.store.withLock { $0.patchUserReturnsBody = true }
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let saved = try await session.saveUser(["middleName": "King", "birthday": "1815-12-10", "gender": "Female"])
        #expect(harness.api.requests(since: before).map(\.summary) == ["PATCH /mobile/1/appinstance/reg-1/user"])
        #expect(saved["middleName"] == "King")
        #expect(saved["type"] == "LEAD")
        await harness.cleanUp(session)
    }

    @Test func savingNothingWithoutAServerCopyReadsTheUser() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.users["reg-1"] = ["firstName": "Ada"] }
        let before = harness.api.requestCount
        let user = try await session.saveUser(["type": "CUSTOMER"])
        #expect(harness.api.requests(since: before).map(\.summary) == ["GET /mobile/1/appinstance/reg-1/user"])
        #expect(user["firstName"] == "Ada")
        await harness.cleanUp(session)
    }

    @Test func invalidUserDataIsInvalidParameterAndSendsNothing() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let error = await caught { try await session.saveUser(["birthday": "10.12.1815"]) }
        #expect(error as? InvalidParameter == InvalidParameter(field: "userData.birthday", reason: "must be a date written YYYY-MM-DD"))
        let context = await caught { try await session.personalize(["userIdentity": ["phones": [1]]]) }
        #expect((context as? InvalidParameter)?.field == "context.userIdentity.phones[0]")
        let installation = await caught { try await session.saveInstallation(["isPrimaryDevice": "yes"]) }
        #expect((installation as? InvalidParameter)?.field == "installation.isPrimaryDevice")
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }

    @Test func fetchUserRefreshesTheLocalCopy() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        #expect(try await session.getUser() == .object([:]))
        harness.api.store.withLock { $0.users["reg-1"] = ["externalUserId": "ada", "phones": [["number": "1", "preferred": true]]] }
        let fetched = try await session.fetchUser()
        #expect(fetched["phones"] == ["1"])
        #expect(try await session.getUser() == fetched)
        #expect(harness.events.named(.userUpdated).count == 1)
        _ = try await session.fetchUser()
        #expect(harness.events.named(.userUpdated).count == 1, "unchanged: no second event")
        #expect(harness.stateFile?["user"]?["externalUserId"] == "ada")
        await harness.cleanUp(session)
    }

    @Test func personalizeSendsTheContextAndEmitsPersonalized() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let user = try await session.personalize(
            [
                "userIdentity": ["externalUserId": "ada", "emails": ["ada@example.com"]],
                "userAttributes": ["firstName": "Ada"], "forceDepersonalize": true,
            ])
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "POST /mobile/1/appinstance/reg-1/personalize")
        #expect(request.query == "forceDepersonalize=true&keepAsLead=false&setDeviceAsPrimary=false")
        #expect(
            request.body
                == ["userIdentity": ["externalUserId": "ada", "emails": [["address": "ada@example.com"]]], "userAttributes": ["firstName": "Ada"]])
        #expect(user["externalUserId"] == "ada")
        #expect(user["emails"] == ["ada@example.com"])
        let event = try #require(harness.events.named(.personalized).first)
        #expect(event.payload == user)
        #expect(try await session.getUser() == user)
        await harness.cleanUp(session)
    }

    @Test func userDataPersistingDisabledKeepsTheUserInMemoryOnly() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession(["privacySettings": ["userDataPersistingDisabled": true]])
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"], "userAttributes": ["lastName": "Lovelace"]])
        #expect(try await session.getUser()["lastName"] == "Lovelace")
        let file = try #require(harness.stateFile)
        #expect(file["user"] == nil)
        #expect(file["installation"]?["pushRegId"] == "reg-1")
        await harness.cleanUp(session)
    }
}
