import Foundation
import JSON
import Testing

/// The inbox calls of a real mmcore against a real mmserver. The first test needs only
/// what every server has (it checks what never leaves the core); the others use the
/// server's inbox: `GET /mobile/1/user/{externalUserId}/inbox/{apns|gcm}/messages`,
/// `POST /mobile/2/messages/seen` and the admin route that puts a message into a
/// person's inbox.
@Suite struct InboxEndToEndTests {
    static let platform = "gcm"  // mmcore on Linux asks as the Android SDK does

    /// Puts a message into `externalUserId`'s inbox with the admin API; returns its id.
    static func put(_ harness: CoreHarness, _ externalUserId: String, topic: String, title: String) async throws -> String {
        let (status, body) = try await harness.server.admin(
            "POST", "/admin/applications/\(harness.application.code)/inbox/\(externalUserId)",
            json: ["title": .string(title), "body": "Body", "topic": .string(topic), "customPayload": ["k": "v"]])
        #expect(status == 201 || status == 200, "\(body)")
        return try #require(body["messageId"]?.stringValue, "the admin route answers the message id: \(body)")
    }

    @Test func noPartOfAnInboxTokenReachesStderrOrTheStateFile() async throws {
        let harness = try await CoreHarness.start(coreArguments: ["--log-level", "trace"])
        do {
            try await harness.initializeAndRegister()
            let valid = try await harness.token(for: "ada")
            let expired = try await harness.token(for: "ada", lifetime: -30)
            let bobs = try await harness.token(for: "bob")
            let parts = valid.split(separator: ".")
            let malformed = "\(parts[0]).bm90LWpzb24tcGF5bG9hZA.\(parts[2])"
            for (token, code) in [(expired, "JWT_TOKEN_EXPIRED"), (bobs, "JWT_TOKEN_SUBJECT_MISMATCH"), (malformed, "JWT_TOKEN_STRUCTURE_INVALID")] {
                let outcome = try await harness.call("fetchInboxMessages", [.string(token), "ada", nil])
                #expect(outcome.errorCode == code, "\(outcome)")
                #expect(outcome.errorData?.serialized.contains(token.split(separator: ".")[1].prefix(12)) == false)
            }
            // A token used for real (whatever the server answers) is not logged either.
            _ = try await harness.call("fetchInboxMessages", [.string(valid), "ada", ["topics": ["a", "b"]]])
            _ = try await harness.call("setInboxMessagesSeen", ["ada", ["m1"]])

            try harness.core.closeInput()
            _ = try await harness.core.waitForExit()
            let stderr = harness.core.standardError
            let state = try harness.stateFiles().map { $0.contents }.joined()
            for token in [valid, expired, bobs, malformed] {
                for part in token.split(separator: ".") where part.count >= 8 {
                    #expect(!stderr.contains(part), "a part of an inbox token reached stderr: \(part.prefix(12))...")
                    #expect(!state.contains(part), "a part of an inbox token reached the state file")
                }
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func aMessagePutByTheAdminIsFetchedWithATokenAndMarkedSeen() async throws {
        let harness = try await CoreHarness.start(authorization: "JWT_ONLY")
        do {
            try await harness.initializeAndRegister()
            let id = try await Self.put(harness, "ada", topic: "promotions", title: "Spring sale")
            _ = try await Self.put(harness, "ada", topic: "news", title: "Hello")
            let token = try await harness.token(for: "ada")

            let inbox = try await harness.call("fetchInboxMessages", [.string(token), "ada", ["topics": ["promotions"]]])
            let page = try #require(inbox.result, "\(inbox)")
            #expect(page["countTotal"] == 2 && page["countUnread"] == 2)
            #expect(page["countTotalFiltered"] == 1 && page["countUnreadFiltered"] == 1)
            let message = try #require(page["messages"]?.arrayValue?.first)
            #expect(message["messageId"]?.stringValue == id && message["topic"] == "promotions" && message["seen"] == false)
            #expect(message["title"] == "Spring sale" && message["customPayload"] == ["k": "v"])

            // Under JWT_ONLY the application code is not enough.
            let withoutToken = try await harness.call("fetchInboxMessagesWithoutToken", ["ada", nil])
            #expect(withoutToken.errorCode == "ACCESS_TOKEN_MISSING", "\(withoutToken)")

            #expect(try await harness.call("setInboxMessagesSeen", ["ada", [.string(id)]]).result == [.string(id)])
            let after = try #require(try await harness.call("fetchInboxMessages", [.string(token), "ada", nil]).result)
            #expect(after["countUnread"] == 1)
            #expect(after["messages"]?.arrayValue?.first { $0["messageId"]?.stringValue == id }?["seen"] == true)

            let log = try await harness.server.requests()
            #expect(log.contains { $0["path"]?.stringValue == "/mobile/1/user/ada/inbox/\(Self.platform)/messages" })
            if ExternalTools.runs(ExternalTools.jsonschema) { try await harness.validateAgainstSchema() }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func aTokenForOnePersonCannotReadAnothersInbox() async throws {
        let harness = try await CoreHarness.start(authorization: "ALLOW_ALL")
        do {
            try await harness.initializeAndRegister()
            _ = try await Self.put(harness, "bob", topic: "private", title: "For bob")
            let adas = try await harness.token(for: "ada")
            // At the core: refused before anything is sent.
            let before = try await harness.server.lastRequestSeq()
            let outcome = try await harness.call("fetchInboxMessages", [.string(adas), "bob", nil])
            #expect(outcome.errorCode == "JWT_TOKEN_SUBJECT_MISMATCH")
            #expect(try await harness.server.requests(since: before).isEmpty)
            // At the server, for a client that skips the check.
            let (status, body) = try await harness.server.mobile(
                "GET", "/mobile/1/user/bob/inbox/\(Self.platform)/messages", auth: "Bearer \(adas)")
            #expect(status == 401 || status == 403, "\(status) \(body)")
            #expect(!body.serialized.contains("For bob"))
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func seenMarksSurviveADroppedConnectionAndARestart() async throws {
        let harness = try await CoreHarness.start()
        do {
            try await harness.initializeAndRegister(configuration: ["retryBaseDelaySeconds": 0.2, "retryMaxDelaySeconds": 1])
            let id = try await Self.put(harness, "ada", topic: "promotions", title: "Spring sale")
            let (status, body) = try await harness.server.admin(
                "PUT", "/admin/faults", json: [["method": "POST", "path": "/mobile/2/messages/seen", "count": 1000, "drop": true]])
            #expect(status == 200, "\(body)")
            let outcome = try await harness.call("setInboxMessagesSeen", ["ada", [.string(id)]])
            #expect(outcome.errorCode == "NETWORK_ERROR" && outcome.errorData?["pending"] == true, "\(outcome)")

            try await harness.restartCore()
            _ = try await harness.server.admin("PUT", "/admin/faults", json: [])
            _ = try await harness.call("init", [harness.configuration])
            var seen = false
            let deadline = ContinuousClock.now + .seconds(20)
            while !seen, ContinuousClock.now < deadline {
                let inbox = try await harness.call("fetchInboxMessagesWithoutToken", ["ada", nil])
                seen = inbox.result?["messages"]?.arrayValue?.first?["seen"] == true
                if !seen { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(seen, "the kept mark reached the server after the restart")
            let marks = try await harness.server.requests().filter { $0["path"]?.stringValue == "/mobile/2/messages/seen" }
            #expect(marks.count >= 2, "dropped attempts, then the delivery: \(marks.count)")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
