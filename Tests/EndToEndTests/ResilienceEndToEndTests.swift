import Foundation
import JSON
import Testing

/// The sync queue, the auth-failure rules and the token provider, black-box: mmcore
/// against a live mmserver whose faults are injected with `PUT /admin/faults`. Delivery
/// is verified on the server (the person's data, read with the admin-free Mobile API
/// once the faults are off) and in the request log. Short retry delays come from the
/// `retryBaseDelaySeconds` / `retryMaxDelaySeconds` configuration keys.
@Suite(.serialized) struct ResilienceEndToEndTests {
    static let fastRetries: JSONObject = ["retryBaseDelaySeconds": 0.2, "retryMaxDelaySeconds": 1]

    enum Fault: String, CaseIterable {
        case dropped, status500, status503, status429, slow
    }

    static func rule(_ fault: Fault, path: String = "/mobile/1/appinstance/*/user", method: String = "PATCH") -> JSONValue {
        var rule: JSONObject = ["method": .string(method), "path": .string(path), "count": 1]
        switch fault {
        case .dropped: rule["drop"] = true
        case .status500: rule["status"] = 500
        case .status503: rule["status"] = 503
        case .status429:
            rule["status"] = 429
            rule["retryAfter"] = 2
        case .slow: rule["delayMs"] = 10_000
        }
        return .object(rule)
    }

    static func expectedCode(_ fault: Fault) -> String {
        switch fault {
        case .dropped: "NETWORK_ERROR"
        case .slow: "TIMEOUT"
        case .status500, .status503, .status429: "FAULT_INJECTED"
        }
    }

    /// The person of installation `id` as the server holds it.
    static func serverUser(_ harness: CoreHarness, _ id: String, server: ServerProcess? = nil) async throws -> JSONValue {
        let (status, body) = try await (server ?? harness.server).mobile(
            "GET", "/mobile/1/appinstance/\(id)/user", auth: "App \(harness.application.code)")
        #expect(status == 200, "\(body)")
        return body
    }

    static func setFaults(_ server: ServerProcess, _ rules: [JSONValue]) async throws {
        let (status, body) = try await server.admin("PUT", "/admin/faults", json: .array(rules))
        #expect(status == 200, "\(body)")
    }

    // MARK: - Fault matrix

    @Test(arguments: Fault.allCases)
    func saveUserUnderAFaultIsPendingThenDelivered(fault: Fault) async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        var configuration = Self.fastRetries
        if fault == .slow { configuration["requestTimeoutSeconds"] = 1 }
        let id = try await harness.initializeAndRegister(configuration: configuration)
        try await Self.setFaults(harness.server, [Self.rule(fault)])

        let start = ContinuousClock.now
        let outcome = try await harness.call("saveUser", [["firstName": .string("Ada-\(fault)")]])
        #expect(outcome.errorCode == Self.expectedCode(fault), "\(outcome)")
        #expect(outcome.errorData?["pending"] == true, "\(outcome)")
        if fault == .status429 || fault == .status500 || fault == .status503 {
            #expect(outcome.errorData?["domain"] == "com.mobile-messaging.backend")
        }

        let event = try await harness.core.waitForEvent("userUpdated", timeout: .seconds(12))
        #expect(event["payload"]?["firstName"] == .string("Ada-\(fault)"))
        if fault == .status429 {
            #expect(ContinuousClock.now - start >= .milliseconds(1900), "Retry-After: 2 was honoured")
        }
        #expect(try await Self.serverUser(harness, id)["firstName"] == .string("Ada-\(fault)"))
        // The request log: the faulted PATCH, then the delivered one.
        let patches = try await harness.server.requests().filter { $0["method"] == "PATCH" && $0["path"]?.stringValue?.hasSuffix("/user") == true }
        #expect(patches.last?["status"] == 200, "\(patches)")
        // A slow request is logged when it ends, after the test.
        #expect(patches.count >= (fault == .slow ? 1 : 2), "\(patches)")
        try await harness.validateAgainstSchema()
        if fault == .slow {
            // Let the server finish the delayed request before it is stopped: stopping
            // waits for it, and that wait would block a thread other tests need.
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline {
                let logged = try await harness.server.requests().filter { $0["method"] == "PATCH" }
                if logged.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func saveUserWhileTheServerIsStoppedIsPendingThenDeliveredAfterItRestarts() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: database) }
        let server = try await ServerProcess.start(arguments: ["--db", database.path])
        let harness = try await CoreHarness.start(server: server)
        defer { harness.terminate() }
        let id = try await harness.initializeAndRegister(configuration: Self.fastRetries)
        await server.stop()

        let saved = try await harness.call("saveUser", [["firstName": "Offline"]])
        #expect(saved.errorCode == "NETWORK_ERROR", "\(saved)")
        #expect(saved.errorData?["pending"] == true)
        let installation = try await harness.call("saveInstallation", [["deviceName": "Offline phone"]])
        #expect(installation.errorCode == "NETWORK_ERROR" && installation.errorData?["pending"] == true, "\(installation)")
        #expect(try harness.stateFiles().contains { $0.contents.contains("Offline phone") }, "kept on disk")

        let port = server.url.port ?? 0
        let restarted = try await ServerProcess.start(
            arguments: ["--db", database.path, "--port", String(port)], adminToken: server.adminToken)
        defer { restarted.terminate() }
        let user = try await harness.core.waitForEvent("userUpdated", timeout: .seconds(12))
        #expect(user["payload"]?["firstName"] == "Offline")
        let updated = try await harness.core.waitForEvent("installationUpdated", timeout: .seconds(12))
        #expect(updated["payload"]?["deviceName"] == "Offline phone")
        #expect(try await Self.serverUser(harness, id, server: restarted)["firstName"] == "Offline")
        try await harness.validateAgainstSchema()
    }

    @Test func saveInstallationAndDepersonalizeUnder503ArePendingThenDelivered() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        let id = try await harness.initializeAndRegister(configuration: Self.fastRetries)
        #expect(try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]]).result != nil)
        try await Self.setFaults(
            harness.server,
            [Self.rule(.status503, path: "/mobile/1/appinstance/*", method: "PATCH"),
             Self.rule(.status503, path: "/mobile/1/appinstance/*/depersonalize", method: "POST")])

        let installation = try await harness.call("saveInstallation", [["deviceName": "Phone 2"]])
        #expect(installation.errorCode == "FAULT_INJECTED" && installation.errorData?["pending"] == true, "\(installation)")
        #expect(try await harness.call("depersonalize", []).result == "pending")

        #expect(try await harness.core.waitForEvent("installationUpdated", timeout: .seconds(12))["payload"]?["deviceName"] == "Phone 2")
        _ = try await harness.core.waitForEvent("depersonalized", timeout: .seconds(12))
        let (_, installations) = try await harness.server.admin("GET", "/admin/applications/\(harness.application.code)/installations")
        let mine = installations.arrayValue?.first { $0["pushRegId"]?.stringValue == id }
        #expect(mine?["deviceName"] == "Phone 2", "\(installations)")
        #expect(mine?["externalUserId"] == nil || mine?["externalUserId"] == .null, "depersonalized on the server: \(String(describing: mine))")
        try await harness.validateAgainstSchema()
    }

    @Test func aRefusalIsNotQueued() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister(configuration: Self.fastRetries)
        let outcome = try await harness.call("saveUser", [["emails": ["not-an-email"]]])
        #expect(outcome.errorCode != nil && outcome.errorData?["pending"] == nil, "\(outcome)")
        #expect(try harness.stateFiles().allSatisfy { !$0.contents.contains("not-an-email") })
        try await harness.validateAgainstSchema()
    }

    // MARK: - Crash

    /// Changes saved while mmcore is `kill -9`-ed at random instants and restarted on the
    /// same state directory, with a server that refuses 40 % of the PATCHes (503) so
    /// that many changes go through the queue. Change k sets its own custom attribute
    /// `c<k>` (none may be lost) and `lastName = "v<k>"` (the server must end with an
    /// accepted value no older than the last accepted one: no reordering).
    @Test func everyAcceptedChangeSurvivesKillNineAtRandomInstants() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        var configuration = Self.fastRetries
        configuration["retryBaseDelaySeconds"] = 0.05
        configuration["retryMaxDelaySeconds"] = 0.3
        let id = try await harness.initializeAndRegister(configuration: configuration)
        let initialize = harness.configuration.objectValue!.merging(configuration)
        try await Self.setFaults(
            harness.server, [["method": "PATCH", "path": "/mobile/1/appinstance/*/user", "share": 0.4, "status": 503]])

        let total = 30
        var accepted: [Int] = []
        var attempted: [Int] = []
        var crashes = 0
        var generator = SystemRandomNumberGenerator()
        var k = 0
        let deadline = ContinuousClock.now + .seconds(45)
        while k < total, ContinuousClock.now < deadline {
            // A burst of one to four changes, with a kill at a random instant in it.
            let burst = Int.random(in: 1...4, using: &generator)
            let killAfter = Duration.milliseconds(Int.random(in: 0...120, using: &generator))
            let core = harness.core
            let killer = Task {
                try? await Task.sleep(for: killAfter)
                core.killHard()
            }
            for _ in 0..<burst where k < total {
                k += 1
                attempted.append(k)
                let change: JSONValue = ["lastName": .string("v\(k)"), "customAttributes": .object(JSONObject([("c\(k)", JSONValue.number(JSONNumber(k)))]))]
                guard let outcome = try? await harness.call("saveUser", [change], timeout: .seconds(5)) else { break }
                if outcome.result != nil || outcome.errorData?["pending"] == true {
                    accepted.append(k)
                } else {
                    Issue.record("change \(k) neither saved nor pending: \(outcome)")
                }
            }
            _ = await killer.value
            crashes += 1
            try await harness.crashAndRestartCore()
            let restarted = try await harness.call("init", [.object(initialize)])
            #expect(restarted.result == .null, "\(restarted)")
        }
        #expect(k == total, "all changes attempted in time")
        let log = try await harness.server.requests()
        let delivered = log.filter { $0["method"] == "PATCH" && $0["status"] == 200 }.count
        print("crash test: \(attempted.count) changes attempted, \(accepted.count) accepted, \(crashes) kill -9, \(delivered) PATCHes accepted by the server so far")
        #expect(crashes >= 5)

        // Faults off; fetchUser delivers whatever is still queued first.
        try await Self.setFaults(harness.server, [])
        let fetched = try await harness.call("fetchUser", [])
        #expect(fetched.result != nil, "\(fetched)")
        let user = try await Self.serverUser(harness, id)
        let attributes = user["customAttributes"]?.objectValue ?? JSONObject()
        let lost = accepted.filter { attributes["c\($0)"] == nil }
        #expect(lost.isEmpty, "accepted but lost: \(lost); accepted \(accepted.count) of \(attempted.count), \(crashes) crashes")
        for key in attributes.keys {
            #expect(attempted.contains(Int(key.dropFirst()) ?? -1), "an attribute nobody sent: \(key)")
        }
        let finalVersion = user["lastName"]?.stringValue.flatMap { Int($0.dropFirst()) } ?? 0
        #expect(finalVersion >= (accepted.last ?? 0), "lastName went back to v\(finalVersion) after v\(accepted.last ?? 0) was accepted")
        #expect(try harness.stateFiles().first { $0.path.hasSuffix("state.json") }?.contents.contains("\"pendingChanges\":[]") == true)
    }

    // MARK: - Auth rules and the provider

    @Test func theProviderIsAskedForMissingExpiredAndRejectedTokens() async throws {
        let harness = try await CoreHarness.start(authorization: "JWT_ONLY")
        defer { harness.terminate() }
        let good = try await harness.token(for: "alice")
        harness.core.answerClientRequests { method, _ in method == "requestUserDataJwt" ? .string(good) : .null }
        try await harness.initializeAndRegister(configuration: ["userDataJwtProvider": true])

        // Missing: no token at all.
        let personalized = try await harness.call("personalize", [["userIdentity": ["externalUserId": "alice"]]])
        #expect(personalized.result?["externalUserId"] == "alice", "\(personalized)")
        // Expired.
        #expect(try await harness.call("setUserDataJwt", [.string(try harness.token(for: "alice", lifetime: -30))]).result == .null)
        let saved = try await harness.call("saveUser", [["firstName": "Alice"]])
        #expect(saved.result?["firstName"] == "Alice", "\(saved)")
        // Rejected by the server (another subject), then retried once with the provider's token.
        #expect(try await harness.call("setUserDataJwt", [.string(try harness.token(for: "bob"))]).result == .null)
        let fetched = try await harness.call("fetchUser", [])
        #expect(fetched.result?["firstName"] == "Alice", "\(fetched)")
        let reasons = harness.core.clientRequests.map { $0["params"]?["reason"]?.stringValue ?? "" }
        #expect(reasons == ["missing", "expired", "rejected"])
        #expect(harness.core.clientRequests.first?["params"]?["externalUserId"] == "alice")
        let rejected = harness.core.events.first { $0["params"]?["eventName"] == "authenticationError" }
        #expect(rejected?["params"]?["payload"]?["method"] == "fetchUser")
        try await harness.validateAgainstSchema()
    }

    @Test func aNullProviderAnswerGivesTheOriginalError() async throws {
        let harness = try await CoreHarness.start(authorization: "JWT_ONLY")
        defer { harness.terminate() }
        harness.core.answerClientRequests { _, _ in .null }
        try await harness.initializeAndRegister(
            configuration: ["userDataJwtProvider": true, "userDataJwt": .string(try harness.token(for: "alice", lifetime: -30))])
        let before = try await harness.server.lastRequestSeq()
        let outcome = try await harness.call("saveUser", [["firstName": "A"]])
        #expect(outcome.errorCode == "JWT_TOKEN_EXPIRED", "\(outcome)")
        #expect(try await harness.server.requests(since: before).isEmpty, "nothing sent")
        #expect(harness.core.clientRequests.count == 1)
        try await harness.validateAgainstSchema()
    }

    @Test func withoutTheFlagNoProviderRequestIsSent() async throws {
        let harness = try await CoreHarness.start(authorization: "JWT_ONLY")
        defer { harness.terminate() }
        harness.core.answerClientRequests { _, _ in .null }
        try await harness.initializeAndRegister()
        #expect(try await harness.call("fetchUser", []).errorCode == "ACCESS_TOKEN_MISSING")
        #expect(harness.core.clientRequests.isEmpty && harness.core.otherMessages.isEmpty)
    }

    @Test func tenAuthFailuresPauseJWTCallsUntilANewToken() async throws {
        let harness = try await CoreHarness.start(authorization: "JWT_ONLY")
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        #expect(try await harness.call("setUserDataJwt", [.string(try harness.token(for: "alice"))]).result == .null)
        #expect(try await harness.call("personalize", [["userIdentity": ["externalUserId": "alice"]]]).result != nil)
        #expect(try await harness.call("setUserDataJwt", [.string(try harness.token(for: "mallory"))]).result == .null)
        for _ in 0..<10 {
            #expect(try await harness.call("fetchUser", []).errorCode == "ACCESS_TOKEN_SUBJECT_MISMATCH")
        }
        let before = try await harness.server.lastRequestSeq()
        let paused = try await harness.call("saveUser", [["firstName": "X"]])
        #expect(paused.errorCode == "AUTHENTICATION_PAUSED", "\(paused)")
        if case .error(let code, _) = paused { #expect(code == 1103) }
        #expect(try await harness.server.requests(since: before).isEmpty, "no request while paused")
        let pausedEvents = harness.core.events.filter { $0["params"]?["payload"]?["code"] == "AUTHENTICATION_PAUSED" }
        #expect(pausedEvents.count == 1)

        #expect(try await harness.call("setUserDataJwt", [.string(try harness.token(for: "alice", lifetime: 600))]).result == .null)
        #expect(try await harness.call("saveUser", [["firstName": "X"]]).result?["firstName"] == "X")
        try await harness.validateAgainstSchema()
    }
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for member in other { result[member.key] = member.value }
        return result
    }
}
