import Foundation
import JSON
import Testing

/// The behaviours of the plugins' native halves that an app notices, through the spawned
/// `mmcore` against a live `mmserver` (`docs/native-parity.md` names each row's test).
@Suite(.serialized) struct NativeParityEndToEndTests {
    static func run(_ setting: String = "ALLOW_ALL", _ body: (CoreHarness) async throws -> Void) async throws {
        let harness = try await CoreHarness.start(authorization: setting)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    static func faults(_ harness: CoreHarness, _ rules: [JSONValue]) async throws {
        let (status, body) = try await harness.server.admin("PUT", "/admin/faults", json: .array(rules))
        #expect(status == 200, "\(body)")
    }

    /// The plugins' native bridges clear their JWT supplier after depersonalize answers
    /// "success" or "pending" (Cordova `src/ios/MobileMessagingCordova.swift`,
    /// `src/android/MobileMessagingCordova.java`); an error keeps it.
    @Test(arguments: ["success", "pending"])
    func logoutDropsTheToken(result: String) async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister(configuration: ["retryBaseDelaySeconds": 0.2, "retryMaxDelaySeconds": 0.5])
            #expect(try await harness.call("setUserDataJwt", [.string(try await harness.token(for: "ada"))]).result == .null)
            #expect(try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]]).result?["externalUserId"] == "ada")
            if result == "pending" {
                try await Self.faults(harness, [["path": "/mobile/1/appinstance/*/depersonalize", "status": 503, "count": 1]])
            }
            #expect(try await harness.call("depersonalize").result == .string(result))
            if result == "pending" { _ = try await harness.core.waitForEvent("depersonalized", timeout: .seconds(15)) }

            let seq = try await harness.server.lastRequestSeq()
            let fetched = try await harness.call("fetchUser")
            #expect(fetched.result?["externalUserId"] == nil, "\(fetched)")
            let sent = try await harness.server.requests(since: seq)
            #expect(!sent.isEmpty && sent.allSatisfy { $0["auth"] == "App" }, "\(sent)")
            try await harness.validateAgainstSchema()
        }
    }

    @Test func aDepersonalizeRefusedWithAnErrorKeepsTheToken() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            #expect(try await harness.call("setUserDataJwt", [.string(try await harness.token(for: "ada"))]).result == .null)
            _ = try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]])
            try await Self.faults(harness, [["path": "/mobile/1/appinstance/*/depersonalize", "status": 400, "messageId": "REQUEST_FORMAT_INVALID", "count": 1]])
            #expect(try await harness.call("depersonalize").errorCode == "REQUEST_FORMAT_INVALID")
            let seq = try await harness.server.lastRequestSeq()
            _ = try await harness.call("fetchUser")
            #expect(try await harness.server.requests(since: seq).map { $0["auth"] } == ["Bearer"])
        }
    }

    /// The drop belongs to the depersonalize's turn: a token set after the call was
    /// written (for the next person) survives it.
    @Test func aTokenSetAfterTheLogoutWasWrittenSurvivesIt() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            #expect(try await harness.call("setUserDataJwt", [.string(try await harness.token(for: "ada"))]).result == .null)
            _ = try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]])
            let next = try await harness.token(for: "grace")
            let responses = try await CallOrderEndToEndTests.pipeline(
                harness.core,
                [("depersonalize", []), ("setUserDataJwt", [.string(next)]), ("personalize", [["userIdentity": ["externalUserId": "grace"]]])],
                prefix: "next")
            #expect(responses[0]["result"] == "success", "\(responses[0])")
            #expect(responses[2]["result"]?["externalUserId"] == "grace", "\(responses[2])")
            let seq = try await harness.server.lastRequestSeq()
            _ = try await harness.call("fetchUser")
            #expect(try await harness.server.requests(since: seq).map { $0["auth"] } == ["Bearer"])
        }
    }

    /// A Flutter app decodes getUser/getInstallation without a null check.
    @Test func localReadsAnswerAnEmptyObjectWhenThereIsNothing() async throws {
        try await Self.run { harness in
            #expect(try await harness.call("init", [harness.configuration]).result == .null)
            #expect(try await harness.call("getUser").result == .object([:]))
            _ = try await harness.core.waitForEvent("registrationUpdated")
            #expect(try await harness.call("depersonalize").result == "success")
            #expect(try await harness.call("getUser").result == .object([:]))
            try await harness.validateAgainstSchema()
        }
    }

    /// The native SDKs show the user with local changes applied: a change kept for a
    /// retry is in getUser before the server has it.
    @Test func getUserShowsAChangeTheServerHasNotAcceptedYet() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister(configuration: ["retryBaseDelaySeconds": 30, "retryMaxDelaySeconds": 30])
            _ = try await harness.call("saveUser", [["firstName": "Ada"]])
            try await Self.faults(harness, [["path": "/mobile/1/appinstance/*/user", "method": "PATCH", "status": 503]])
            let saved = try await harness.call("saveUser", [["lastName": "Lovelace", "customAttributes": ["team": "blue"]]])
            #expect(saved.errorData?["pending"] == true, "\(saved)")
            let local = try await harness.call("getUser")
            #expect(local.result?["firstName"] == "Ada" && local.result?["lastName"] == "Lovelace", "\(local)")
            #expect(local.result?["customAttributes"]?["team"] == "blue", "\(local)")
            try await harness.validateAgainstSchema()
        }
    }

    /// Only null and "" clear the token; a blank one is kept and refused
    /// (`docs/contract/jwt.md`, "Setting, clearing and dropping the token").
    @Test func aBlankTokenIsRefusedWithNothingSent() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            #expect(try await harness.call("setUserDataJwt", ["  \t "]).result == .null)
            let seq = try await harness.server.lastRequestSeq()
            for (method, params) in [("fetchUser", JSONValue.array([])), ("saveUser", [["firstName": "x"]])] {
                let outcome = try await harness.call(method, params)
                #expect(outcome.errorCode == "JWT_TOKEN_STRUCTURE_INVALID", "\(outcome)")
                #expect(outcome.errorData?["description"] == "Token is empty or blank.")
            }
            #expect(try await harness.server.requests(since: seq).isEmpty)
            #expect(try await harness.call("setUserDataJwt", [""]).result == .null)
            #expect(try await harness.call("fetchUser").result != nil)
        }
    }

    /// Both SDKs' UserDataValidator: every violation in one error, nothing sent.
    @Test func userDataOverTheLimitsIsRefusedWithEveryViolationAndNothingSent() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            let seq = try await harness.server.lastRequestSeq()
            let long = String(repeating: "a", count: 256)
            let saved = try await harness.call("saveUser", [["firstName": .string(long), "middleName": .string(String(repeating: "m", count: 51))]])
            #expect(saved.errorCode == "USER_DATA_VALIDATION_FAILED", "\(saved)")
            let description = saved.errorData?["description"]?.stringValue ?? ""
            #expect(description.hasPrefix("User data validation failed:"), "\(description)")
            #expect(description.contains("  - firstName exceeds maximum length of 255 characters (actual: 256)"), "\(description)")
            #expect(description.contains("middleName"), "\(description)")
            let personalized = try await harness.call(
                "personalize", [["userIdentity": ["externalUserId": .string(String(repeating: "x", count: 257))]]])
            #expect(personalized.errorCode == "USER_DATA_VALIDATION_FAILED", "\(personalized)")
            #expect(try await harness.server.requests(since: seq).isEmpty)
            try await harness.validateAgainstSchema()
        }
    }

    /// An identity with no field set is refused before sending, with the server's code.
    @Test(arguments: [JSONValue.object([:]), ["externalUserId": nil, "phones": [], "emails": nil]])
    func anEmptyIdentityIsRefusedLocally(identity: JSONValue) async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            let seq = try await harness.server.lastRequestSeq()
            let outcome = try await harness.call("personalize", [["userIdentity": identity]])
            #expect(outcome.errorCode == "USER_IDENTITY_INVALID", "\(outcome)")
            #expect(outcome.errorData?["description"] == "UserIdentity does not have any identity field set")
            #expect(try await harness.server.requests(since: seq).isEmpty)
            try await harness.validateAgainstSchema()
        }
    }

    /// Flutter's PersonalizeContext.toJson writes every flag, null or not.
    @Test func flutterStylePersonalizeWithNullFlagsIsAccepted() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            let context: JSONValue = [
                "userIdentity": ["externalUserId": "ada", "phones": nil, "emails": nil], "userAttributes": nil,
                "forceDepersonalize": nil, "keepAsLead": nil, "setDeviceAsPrimary": nil,
            ]
            let seq = try await harness.server.lastRequestSeq()
            let outcome = try await harness.call("personalize", [context])
            #expect(outcome.result?["externalUserId"] == "ada", "\(outcome)")
            let sent = try await harness.server.requests(since: seq)
            #expect(sent.contains { ($0["path"]?.stringValue ?? "").hasSuffix("/personalize") }, "\(sent)")
            try await harness.validateAgainstSchema()
        }
    }

    /// The wrappers' installation names: deviceTimezoneOffset, isPrimaryDevice always a
    /// boolean, and Flutter's read-only push fields accepted.
    @Test func installationsUseTheWrappersNames() async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister()
            let local = try await harness.call("getInstallation")
            #expect(local.result?["isPrimaryDevice"] == false, "\(local)")
            let flutter: JSONValue = [
                "deviceTimezoneOffset": "GMT+01:00", "pushServiceType": "Firebase", "pushServiceToken": nil,
                "customAttributes": ["theme": "dark"],
            ]
            let saved = try await harness.call("saveInstallation", [flutter])
            #expect(saved.result?["deviceTimezoneOffset"] == "GMT+01:00", "\(saved)")
            #expect(saved.result?["isPrimaryDevice"] == false, "\(saved)")
            #expect(saved.result?["pushServiceType"] == nil, "\(saved)")
            let fetched = try await harness.call("fetchInstallation")
            #expect(fetched.result?["deviceTimezoneOffset"] == "GMT+01:00", "\(fetched)")
            try await harness.validateAgainstSchema()
        }
    }

    /// The SDKs reset the installation's customAttributes and isPrimaryDevice on logout.
    @Test func logoutResetsTheInstallationsCustomAttributesAndPrimaryFlag() async throws {
        try await Self.run { harness in
            let id = try await harness.initializeAndRegister()
            _ = try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]])
            _ = try await harness.call("saveInstallation", [["customAttributes": ["theme": "dark"]]])
            _ = try await harness.call("setInstallationAsPrimary", [.string(id), true])
            #expect(try await harness.call("getInstallation").result?["isPrimaryDevice"] == true)
            #expect(try await harness.call("depersonalize").result == "success")
            let local = try await harness.call("getInstallation")
            #expect(local.result?["isPrimaryDevice"] == false, "\(local)")
            #expect(local.result?["customAttributes"] == nil, "\(local)")
        }
    }

    /// The SDKs send setDeviceAsPrimary with personalize; true makes this installation the
    /// person's primary one.
    @Test func personalizeCanMakeThisTheDevicePrimary() async throws {
        try await Self.run { harness in
            let id = try await harness.initializeAndRegister()
            let outcome = try await harness.call(
                "personalize", [["userIdentity": ["externalUserId": "ada"], "setDeviceAsPrimary": true]])
            #expect(outcome.result?["externalUserId"] == "ada", "\(outcome)")
            let fetched = try await harness.call("fetchInstallation")
            #expect(fetched.result?["isPrimaryDevice"] == true, "\(fetched)")
            let mine = outcome.result?["installations"]?.arrayValue?.first { $0["pushRegistrationId"] == .string(id) }
            #expect(mine?["isPrimaryDevice"] == true, "\(outcome)")
        }
    }

    /// React Native and Flutter say `logging`, Cordova `loggingEnabled`: both turn on debug logs.
    @Test(arguments: ["logging", "loggingEnabled"])
    func eitherLoggingKeyTurnsOnDebugLogs(key: String) async throws {
        try await Self.run { harness in
            try await harness.initializeAndRegister(configuration: [key: true])
            _ = try await harness.call("fetchInstallation")
            try harness.core.closeInput()
            _ = try await harness.core.waitForExit()
            #expect(harness.core.standardError.contains(" debug "), "no debug line on stderr")
        }
    }
}
