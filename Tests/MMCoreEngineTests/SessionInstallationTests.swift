import JSON
import Testing

@testable import MMCoreEngine

@Suite struct SessionInstallationTests {
    @Test func saveInstallationSendsOnlyChanges() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        let saved = try await session.saveInstallation(
            ["pushRegistrationId": "reg-1", "isPushRegistrationEnabled": true, "customAttributes": ["theme": "dark"], "deviceTimezoneId": "Europe/Zagreb"])
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "PATCH /mobile/1/appinstance/reg-1")
        #expect(request.body == ["customAttributes": ["theme": "dark"], "deviceTimezoneOffset": "Europe/Zagreb"])
        #expect(saved["customAttributes"] == ["theme": "dark"])
        #expect(saved["deviceTimezoneOffset"] == "Europe/Zagreb")
        #expect(try await session.getInstallation() == saved)
        #expect(harness.events.named(.installationUpdated).last?.payload == saved)

        #expect(try await session.saveInstallation(["customAttributes": ["theme": "dark"]]) == saved)
        #expect(harness.api.requestCount == before + 1, "nothing changed, nothing sent")
        await harness.cleanUp(session)
    }

    @Test func fetchInstallationRefreshesTheLocalCopy() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        harness.api.store.withLock { $0.installations["reg-1"]?["isPrimary"] = true }
        let fetched = try await session.fetchInstallation()
        #expect(fetched["isPrimaryDevice"] == true)
        #expect(try await session.getInstallation() == fetched)
        #expect(harness.events.named(.installationUpdated).count == 1)
        await harness.cleanUp(session)
    }

    func sessionWithAnotherInstallation(_ harness: SessionHarness) async throws -> Session {
        let session = try await harness.registeredSession()
        _ = try await session.personalize(["userIdentity": ["externalUserId": "ada"]])
        harness.api.store.withLock { store in
            store.installations["other-1"] = ["pushRegId": "other-1", "isPrimary": false]
            store.users["other-1"] = ["externalUserId": "ada"]
        }
        return session
    }

    @Test func setInstallationAsPrimaryReturnsThePersonsInstallations() async throws {
        let harness = SessionHarness()
        let session = try await sessionWithAnotherInstallation(harness)
        let before = harness.api.requestCount
        let installations = try await session.setInstallationAsPrimary(pushRegistrationId: "other-1", primary: true)
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "PATCH /mobile/1/appinstance/other-1")
        #expect(request.body == ["isPrimary": true])
        #expect(request.header("pushregistrationid") == "reg-1")
        let list = try #require(installations.arrayValue)
        #expect(list.map { $0["pushRegistrationId"] } == ["other-1", "reg-1"])
        #expect(list.first?["isPrimaryDevice"] == true)
        await harness.cleanUp(session)
    }

    @Test func settingThisInstallationAsPrimaryUpdatesTheLocalCopy() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        _ = try await session.setInstallationAsPrimary(pushRegistrationId: "reg-1", primary: true)
        #expect(try await session.getInstallation()["isPrimaryDevice"] == true)
        #expect(harness.events.named(.installationUpdated).count == 1)
        await harness.cleanUp(session)
    }

    @Test func depersonalizeInstallationReturnsTheRemainingInstallations() async throws {
        let harness = SessionHarness()
        let session = try await sessionWithAnotherInstallation(harness)
        let before = harness.api.requestCount
        let installations = try await session.depersonalizeInstallation(pushRegistrationId: "other-1")
        let request = try #require(harness.api.requests(since: before).first)
        #expect(request.summary == "POST /mobile/1/appinstance/other-1/depersonalize")
        #expect(request.header("pushregistrationid") == "reg-1")
        #expect(installations.arrayValue?.map { $0["pushRegistrationId"] } == ["reg-1"])
        await harness.cleanUp(session)
    }

    @Test func theInstallationsFallBackToTheLocalCopyWhenTheUserCannotBeRead() async throws {
        let harness = SessionHarness()
        let session = try await sessionWithAnotherInstallation(harness)
        _ = try await session.fetchUser()  // the local copy now lists both installations
        harness.api.setHook { request in
            request.path.hasSuffix("/user") ? FakeMobileAPI.error(401, "ACCESS_TOKEN_MISSING", "Access token is missing") : nil
        }
        let installations = try await session.setInstallationAsPrimary(pushRegistrationId: "other-1", primary: true)
        let list = try #require(installations.arrayValue)
        #expect(list.count == 2)
        #expect(list.first { $0["pushRegistrationId"] == "other-1" }?["isPrimaryDevice"] == true)
        #expect(list.first { $0["pushRegistrationId"] == "reg-1" }?["isPrimaryDevice"] == false)
        #expect(harness.events.named(.authenticationError).isEmpty, "a read-back is not the caller's auth failure")
        await harness.cleanUp(session)
    }

    @Test func invalidInstallationArguments() async throws {
        let harness = SessionHarness()
        let session = try await harness.registeredSession()
        let before = harness.api.requestCount
        #expect(
            await caught { try await session.setInstallationAsPrimary(pushRegistrationId: 5, primary: true) } as? InvalidParameter
                == InvalidParameter(field: "pushRegistrationId", reason: "must be a string, got a number"))
        #expect(
            await caught { try await session.setInstallationAsPrimary(pushRegistrationId: "x", primary: "yes") } as? InvalidParameter
                == InvalidParameter(field: "primary", reason: "must be a boolean, got a string"))
        #expect(
            await caught { try await session.depersonalizeInstallation(pushRegistrationId: "") } as? InvalidParameter
                == InvalidParameter(field: "pushRegistrationId", reason: "must not be empty"))
        #expect(harness.api.requestCount == before)
        let own = await caught { try await session.depersonalizeInstallation(pushRegistrationId: "reg-1") }
        #expect((own as? InvalidParameter)?.field == "pushRegistrationId")
        #expect(harness.api.requestCount == before)
        await harness.cleanUp(session)
    }
}
