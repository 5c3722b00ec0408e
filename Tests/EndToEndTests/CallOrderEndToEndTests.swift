import Foundation
import JSON
import Testing

/// Calls take effect in the order they were written (`docs/contract/call-order.md`,
/// "The serial lane"): requests written back to back, without waiting for answers, as a
/// Cordova or React Native app does when it does not chain callbacks.
@Suite(.serialized) struct CallOrderEndToEndTests {
    /// Writes every request at once, then reads until each has its response.
    static func pipeline(_ core: CoreProcess, _ requests: [(method: String, params: JSONValue)], prefix: String)
        async throws -> [JSONValue]
    {
        var batch = ""
        for (index, request) in requests.enumerated() {
            let message: JSONValue = [
                "jsonrpc": "2.0", "id": .string("\(prefix)-\(index)"), "method": .string(request.method), "params": request.params,
            ]
            batch += message.serialized + "\n"
        }
        try core.sendBytes(Array(batch.utf8))
        var responses: [String: JSONValue] = [:]
        while responses.count < requests.count {
            let message = try await core.readMessage(timeout: .seconds(30))
            if let id = message["id"]?.stringValue, id.hasPrefix(prefix + "-"), message["method"] == nil {
                responses[id] = message
            }
        }
        return requests.indices.map { responses["\(prefix)-\($0)"] ?? .null }
    }

    @Test func aHundredPipelinedSavesReachTheServerInCallOrderAndTheLastWins() async throws {
        let harness = try await CoreHarness.start()
        do {
            try await harness.initializeAndRegister()
            for round in 0..<20 {
                let saves = (0..<100).map { index in
                    (method: "saveUser", params: JSONValue.array([["firstName": .string("r\(round)-n\(index)")]]))
                }
                let responses = try await Self.pipeline(harness.core, saves, prefix: "r\(round)")
                for (index, response) in responses.enumerated() {
                    #expect(response["result"]?["firstName"] == .string("r\(round)-n\(index)"), "round \(round) call \(index): \(response)")
                }
                let local = try await harness.call("getUser")
                #expect(local.result?["firstName"] == .string("r\(round)-n99"), "round \(round): getUser \(local)")
                let remote = try await harness.call("fetchUser")
                #expect(remote.result?["firstName"] == .string("r\(round)-n99"), "round \(round): server \(remote)")
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func aDepersonalizeWrittenAfterASaveRunsAfterIt() async throws {
        let harness = try await CoreHarness.start()
        do {
            try await harness.initializeAndRegister()
            let personalized = try await harness.call("personalize", [["userIdentity": ["externalUserId": "ada"]]])
            #expect(personalized.result?["externalUserId"] == "ada", "\(personalized)")

            let responses = try await Self.pipeline(
                harness.core, [("saveUser", [["lastName": "Lovelace"]]), ("depersonalize", [])], prefix: "dp")
            #expect(responses[0]["result"]?["lastName"] == "Lovelace", "\(responses[0])")
            #expect(responses[1]["result"] == "success", "\(responses[1])")
            // The save landed on ada, not on the anonymous person the installation has after.
            let (status, person) = try await harness.server.admin("GET", "/admin/applications/\(harness.application.code)/people/ada")
            #expect(status == 200)
            #expect(person["lastName"] == "Lovelace", "\(person)")
            #expect(try await harness.call("getUser").result == .object([:]))
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func aLocalReadWrittenAfterASaveSeesIt() async throws {
        let harness = try await CoreHarness.start()
        do {
            try await harness.initializeAndRegister()
            for round in 0..<10 {
                let responses = try await Self.pipeline(
                    harness.core,
                    [
                        ("saveUser", [["firstName": .string("Grace\(round)"), "customAttributes": ["round": .number(JSONNumber(round))]]]),
                        ("getUser", []), ("depersonalize", []), ("getUser", []), ("saveUser", [["lastName": "Hopper"]]), ("getUser", []),
                    ], prefix: "lr\(round)")
                #expect(responses[1]["result"]?["firstName"] == .string("Grace\(round)"), "\(responses[1])")
                #expect(responses[1]["result"]?["customAttributes"]?["round"] == .number(JSONNumber(round)), "\(responses[1])")
                #expect(responses[3]["result"] == .object([:]), "after depersonalize: \(responses[3])")
                #expect(responses[5]["result"]?["lastName"] == "Hopper", "\(responses[5])")
                #expect(responses[5]["result"]?["firstName"] == nil, "\(responses[5])")
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
