import Foundation
import JSON
import Testing

/// The core against a live `mmserver`: mmcore spawned as a wrapper spawns it, the server
/// on loopback. Each test validates every response it saw against the schema.
@Suite(.serialized) struct CoreAuthorizationMatrixTests {
    enum TokenCase: String, CaseIterable {
        case none, valid, expired, malformed, otherUser
    }

    enum UserCall: String, CaseIterable {
        case saveUser, fetchUser, personalize
    }

    /// `nil`: the call succeeds; else the `data.code` it must fail with.
    static func expectedCode(setting: String, token: TokenCase, call: UserCall) -> String? {
        switch token {
        case .expired: return "JWT_TOKEN_EXPIRED"
        case .malformed: return "JWT_TOKEN_STRUCTURE_INVALID"
        case .none, .valid, .otherUser: break
        }
        if setting == "DISALLOW_ALL" { return "USER_DATA_RESTRICTED" }
        switch token {
        case .none: return setting == "JWT_ONLY" ? "ACCESS_TOKEN_MISSING" : nil
        case .otherUser: return "ACCESS_TOKEN_SUBJECT_MISMATCH"
        case .valid, .expired, .malformed: return nil
        }
    }

    static func isClientSide(_ token: TokenCase) -> Bool { token == .expired || token == .malformed }

    @Test(arguments: ["ALLOW_ALL", "JWT_ONLY", "DISALLOW_ALL"])
    func everyUserCallWithEveryKindOfToken(setting: String) async throws {
        let harness = try await CoreHarness.start(authorization: setting)
        defer { harness.terminate() }
        try await harness.initializeAndRegister()

        // The installation belongs to "alice" first (impossible through the SDK under
        // DISALLOW_ALL, where every case is refused anyway).
        if setting != "DISALLOW_ALL" {
            #expect(try await harness.call("setUserDataJwt", [.string(try await harness.token(for: "alice"))]).result == .null)
            let personalized = try await harness.call("personalize", [["userIdentity": ["externalUserId": "alice"]]])
            #expect(personalized.result?["externalUserId"] == "alice", "\(personalized)")
        }

        for token in TokenCase.allCases {
            let jwt: JSONValue =
                switch token {
                case .none: .null
                case .valid: .string(try await harness.token(for: "alice"))
                case .expired: .string(try await harness.token(for: "alice", lifetime: -30))
                case .malformed: "eyJhbGciOiJIUzI1NiJ9.not-a-payload"
                case .otherUser: .string(try await harness.token(for: "bob"))
                }
            #expect(try await harness.call("setUserDataJwt", [jwt]).result == .null)

            for call in UserCall.allCases {
                let label = "\(setting) \(token) \(call)"
                let seqBefore = try await harness.server.lastRequestSeq()
                let outcome: CoreHarness.Outcome
                switch call {
                case .saveUser:
                    outcome = try await harness.call("saveUser", [["firstName": .string("Ada-\(token)")]])
                case .fetchUser:
                    outcome = try await harness.call("fetchUser", [])
                case .personalize:
                    outcome = try await harness.call("personalize", [["userIdentity": ["externalUserId": "alice"]]])
                }

                let expected = Self.expectedCode(setting: setting, token: token, call: call)
                if let expected {
                    #expect(outcome.errorCode == expected, "\(label): \(outcome)")
                } else {
                    #expect(outcome.result?["externalUserId"] == "alice", "\(label): \(outcome)")
                    if call == .saveUser {
                        #expect(outcome.result?["firstName"] == .string("Ada-\(token)"), "\(label): \(outcome)")
                    }
                }

                let requests = try await harness.server.requests(since: seqBefore)
                if Self.isClientSide(token) {
                    #expect(requests.isEmpty, "\(label): the server got \(requests)")
                    #expect(outcome.errorData?["domain"] == "com.mobile-messaging")
                } else {
                    #expect(!requests.isEmpty, "\(label): no request reached the server")
                    let bearer = requests.contains { $0["auth"] == "Bearer" }
                    #expect(bearer == (token != .none), "\(label): auth schemes \(requests.map { $0["auth"] ?? .null })")
                }
                if let expected, expected.hasPrefix("ACCESS_TOKEN_") {
                    #expect(outcome.errorData?["httpStatus"] == 401)
                    #expect(outcome.errorData?["domain"] == "com.mobile-messaging.backend")
                    let event = try await harness.core.waitForEvent("authenticationError")
                    #expect(event["payload"]?["code"] == .string(expected), "\(label): \(event)")
                    #expect(event["payload"]?["method"] == .string(call.rawValue), "\(label): \(event)")
                }
            }
        }
        try await harness.validateAgainstSchema()
    }
}

@Suite struct CoreSessionTests {
    @Test func savedUserSurvivesARestartAndTheTokenIsNeverWritten() async throws {
        let harness = try await CoreHarness.start(authorization: "JWT_ONLY", coreArguments: ["--log-level", "trace"])
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let token = try await harness.token(for: "ada")
        _ = try await harness.call("setUserDataJwt", [.string(token)])
        let personalized = try await harness.call(
            "personalize", ["context": ["userIdentity": ["externalUserId": "ada"], "userAttributes": ["firstName": "Ada"]]])
        #expect(personalized.result?["firstName"] == "Ada", "\(personalized)")
        let saved = try await harness.call(
            "saveUser",
            ["userData": ["lastName": "Lovelace", "emails": ["ada@example.com"], "phones": ["+38591000111"],
                          "birthday": "1815-12-10", "gender": "Female", "tags": ["math"],
                          "customAttributes": ["plan": "gold", "visits": 3, "vip": true]]])
        let user = try #require(saved.result, "\(saved)")
        #expect(user["emails"] == ["ada@example.com"])
        #expect(user["phones"] == ["+38591000111"])
        #expect(user["customAttributes"]?["visits"] == 3)
        #expect(user["type"] == "CUSTOMER")
        #expect(user["installations"]?.arrayValue?.count == 1)
        let fetched = try await harness.call("fetchUser")
        #expect(fetched.result?["lastName"] == "Lovelace")

        let stderrBefore = harness.core.standardError
        try await harness.restartCore(arguments: ["--log-level", "trace"])
        _ = try await harness.call("init", [harness.configuration])
        let local = try await harness.call("getUser")
        #expect(local.result?["lastName"] == "Lovelace", "\(local)")
        #expect(local.result?["emails"] == ["ada@example.com"])
        let installation = try await harness.call("getInstallation")
        #expect(installation.result?["pushRegistrationId"]?.stringValue != nil, "\(installation)")

        // The token, or any of its parts, is in no state file and no log line.
        let signature = String(token.split(separator: ".")[2])
        let payload = String(token.split(separator: ".")[1])
        for file in try harness.stateFiles() {
            #expect(!file.contents.contains(signature) && !file.contents.contains(payload), "token in \(file.path)")
        }
        for log in [stderrBefore, harness.core.standardError] {
            #expect(!log.isEmpty)
            #expect(!log.contains(signature) && !log.contains(payload), "token in stderr")
        }
        try await harness.validateAgainstSchema()
    }

    @Test func stateFilesAreOwnerOnly() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let attributes = try FileManager.default.attributesOfItem(atPath: harness.stateDirectory.path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
        for file in try harness.stateFiles() {
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode.map { $0 & 0o077 } == 0, "\(file.path) mode \(String(mode ?? 0, radix: 8))")
        }
    }

    @Test func aSecondCoreOnTheSameStateDirectoryIsRefused() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let second = try CoreProcess(arguments: ["--state-dir", harness.stateDirectory.path])
        let response = try await second.request("init", params: [harness.configuration])
        #expect(response["error"]?["data"]?["code"] == "STATE_LOCKED", "\(response)")
        #expect(response["error"]?["code"] == 1401)
        try second.closeInput()
        #expect(try await second.waitForExit().status == 0)
        // The first one is undisturbed.
        #expect(try await harness.call("fetchInstallation").result?["pushRegistrationId"] != nil)
    }

    @Test func cleanupWipesLocalState() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        _ = try await harness.call("saveUser", [["firstName": "Grace"]])
        #expect(try await harness.call("getUser").result?["firstName"] == "Grace")
        #expect(try await harness.call("cleanup").result == .null)
        for file in try harness.stateFiles() {
            #expect(!file.contents.contains("Grace"), "\(file.path) still holds the user")
        }
        // Stopped until the next init: every call but init answers NOT_INITIALIZED and sends nothing.
        let seq = try await harness.server.lastRequestSeq()
        for method in ["getUser", "getInstallation", "saveUser", "fetchUser", "saveInstallation", "depersonalize", "cleanup"] {
            let params: JSONValue = method.hasPrefix("save") ? [["customAttributes": ["k": "v"]]] : []
            #expect(try await harness.call(method, params).errorCode == "NOT_INITIALIZED", "\(method)")
        }
        #expect(try await harness.server.requests(since: seq).isEmpty, "nothing is sent after cleanup")
        #expect(try await harness.call("init", [harness.configuration]).result == .null)
        #expect(try await harness.call("getUser").result == .object([:]))
        try await harness.validateAgainstSchema()
    }

    @Test func callsBeforeInitFailWithNotInitialized() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        for method in ["saveUser", "fetchUser", "getUser", "personalize", "depersonalize", "fetchInstallation", "cleanup"] {
            let params: JSONValue =
                switch method {
                case "saveUser": [["firstName": "x"]]
                case "personalize": [["userIdentity": ["externalUserId": "x"]]]
                default: []
                }
            let outcome = try await harness.call(method, params)
            #expect(outcome.errorCode == "NOT_INITIALIZED", "\(method): \(outcome)")
        }
        #expect(try await harness.server.requests(since: 0).isEmpty)
        try await harness.validateAgainstSchema()
    }

    @Test func invalidConfigurationAndParamsNameTheField() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        let missing = try await harness.call("init", [["backendBaseURL": "http://127.0.0.1:1"]])
        #expect(missing.errorCode == "INVALID_CONFIGURATION", "\(missing)")
        #expect(missing.errorData?["description"]?.stringValue?.contains("applicationCode") == true)
        try await harness.initializeAndRegister()
        let birthday = try await harness.call("saveUser", [["birthday": "10.12.1815"]])
        guard case .error(let code, let data) = birthday else {
            Issue.record("accepted a bad birthday: \(birthday)")
            return
        }
        #expect(code == -32602)
        #expect(data["field"] == "userData.birthday")
        let gender = try await harness.call("saveUser", ["userData": ["gender": "Robot"]])
        #expect(gender.errorData?["field"] == "userData.gender", "\(gender)")
        try await harness.validateAgainstSchema()
    }

    @Test func serverValidationErrorsPassThroughVerbatim() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let outcome = try await harness.call("saveUser", [["emails": ["not-an-email"]]])
        #expect(outcome.errorCode == "EMAIL_INVALID", "\(outcome)")
        #expect(outcome.errorData?["description"] == "Invalid email: not-an-email")
        #expect(outcome.errorData?["httpStatus"] == 400)
        try await harness.validateAgainstSchema()
    }

    @Test func personalizeRulesAndDepersonalize() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let first = try await harness.call("personalize", [["userIdentity": ["externalUserId": "p1"], "userAttributes": ["firstName": "One"]]])
        #expect(first.result?["externalUserId"] == "p1", "\(first)")
        let personalizedEvent = try await harness.core.waitForEvent("personalized")
        #expect(personalizedEvent["payload"]?["externalUserId"] == "p1")

        let other = try await harness.call("personalize", [["userIdentity": ["externalUserId": "p2"]]])
        #expect(other.errorCode == "PERSONALIZATION_IMPOSSIBLE", "\(other)")
        let forced = try await harness.call("personalize", [["userIdentity": ["externalUserId": "p2"], "forceDepersonalize": true]])
        #expect(forced.result?["externalUserId"] == "p2", "\(forced)")
        let lead = try await harness.call(
            "personalize", [["userIdentity": ["emails": ["lead@example.com"]], "forceDepersonalize": true, "keepAsLead": true]])
        #expect(lead.result?["type"] == "LEAD", "\(lead)")
        let empty = try await harness.call("personalize", [["userIdentity": [:] as JSONValue]])
        #expect(empty.errorCode == "USER_IDENTITY_INVALID" || empty.errorData?["field"] != nil, "\(empty)")

        #expect(try await harness.call("depersonalize").result == "success")
        _ = try await harness.core.waitForEvent("depersonalized")
        let after = try await harness.call("fetchUser")
        #expect(after.result?["externalUserId"] == nil || after.result?["externalUserId"] == .null, "\(after)")
        try await harness.validateAgainstSchema()
    }

    @Test func installationCalls() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        let pushRegistrationId = try await harness.initializeAndRegister()
        let saved = try await harness.call("saveInstallation", [["customAttributes": ["channel": "beta"], "deviceName": "test rig"]])
        #expect(saved.result?["deviceName"] == "test rig", "\(saved)")
        #expect(saved.result?["customAttributes"]?["channel"] == "beta")
        _ = try await harness.core.waitForEvent("installationUpdated")
        #expect(try await harness.call("fetchInstallation").result?["pushRegistrationId"] == .string(pushRegistrationId))
        #expect(try await harness.call("getInstallation").result?["deviceName"] == "test rig")

        // A second device of the same person, then primary and remote depersonalize.
        _ = try await harness.call("personalize", [["userIdentity": ["externalUserId": "multi"]]])
        let otherId = try await harness.server.registerInstallation(applicationCode: harness.application.code)
        let (status, _) = try await harness.server.mobile(
            "POST", "/mobile/1/appinstance/\(otherId)/personalize", auth: "App \(harness.application.code)",
            json: ["userIdentity": ["externalUserId": "multi"]])
        #expect(status == 200)
        let primary = try await harness.call("setInstallationAsPrimary", ["pushRegistrationId": .string(otherId), "primary": true])
        let installations = try #require(primary.result?.arrayValue, "\(primary)")
        #expect(installations.count == 2)
        #expect(installations.first { $0["pushRegistrationId"] == .string(otherId) }?["isPrimaryDevice"] == true)
        let remaining = try await harness.call("depersonalizeInstallation", [.string(otherId)])
        #expect(remaining.result?.arrayValue?.count == 1, "\(remaining)")
        try await harness.validateAgainstSchema()
    }

    @Test func aStoppedServerGivesNetworkErrorAndDepersonalizeIsPending() async throws {
        let server = try await ServerProcess.start()
        let harness = try await CoreHarness.start(server: server)
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        _ = try await harness.call("personalize", [["userIdentity": ["externalUserId": "offline"]]])
        await server.stop()
        let save = try await harness.call("fetchUser")
        #expect(save.errorCode == "NETWORK_ERROR", "\(save)")
        let depersonalize = try await harness.call("depersonalize")
        #expect(depersonalize.result == "pending", "\(depersonalize)")
        try await harness.validateAgainstSchema()
    }

    @Test func aNewApplicationCodeWipesTheOldState() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        let firstId = try await harness.initializeAndRegister()
        _ = try await harness.call("saveUser", [["firstName": "Old"]])
        let other = try await harness.server.createApplication()
        _ = try await harness.call("init", [["applicationCode": .string(other.code), "backendBaseURL": .string(harness.server.url.absoluteString)]])
        #expect(try await harness.call("getUser").result == .object([:]))
        let event = try await harness.core.waitForEvent("registrationUpdated")
        #expect(event["payload"]?.stringValue != nil && event["payload"] != .string(firstId))
        try await harness.validateAgainstSchema()
    }
}
