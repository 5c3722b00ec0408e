import Foundation
import HostileHTTPServer
import JSON
import Testing

/// Every call has one deadline for the whole exchange (connect, headers and body): a
/// server that stalls or trickles its body is answered `TIMEOUT` within it, the change is
/// kept, and the calls behind it go on (`docs/contract/mobile-api.md`, "Talking to the
/// Mobile API").
/// Through the spawned mmcore against a loopback server that misbehaves on purpose.
@Suite(.serialized) struct StallEndToEndTests {
    static let registered = HostileServer.Behaviour.respond(
        status: 200, headers: [.init("Content-Type", "application/json")],
        body: Array(#"{"pushRegId":"hostile-1","regEnabled":true}"#.utf8))
    static let user = HostileServer.Behaviour.respond(
        status: 200, headers: [.init("Content-Type", "application/json")], body: Array(#"{"firstName":"Ada"}"#.utf8))

    /// Registration answers; every other request gets `other`.
    static func registeringThen(_ other: HostileServer.Behaviour) -> HostileServer.Behaviour {
        .route { line in line.hasPrefix("POST /mobile/1/appinstance ") ? registered : other }
    }

    static func startCore(_ server: HostileServer, timeout: Double, retry: Double = 60) async throws -> (CoreProcess, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-stall-\(UUID().uuidString)")
        let core = try CoreProcess(arguments: ["--state-dir", directory.path])
        let configuration: JSONValue = [
            "applicationCode": "stall-app", "backendBaseURL": .string(server.baseURL),
            "requestTimeoutSeconds": .number(JSONNumber(timeout)), "retryBaseDelaySeconds": .number(JSONNumber(retry)),
            "retryMaxDelaySeconds": .number(JSONNumber(retry)),
        ]
        let answer = try await core.request("init", params: [configuration])
        #expect(answer["result"] == .null, "\(answer)")
        return (core, directory)
    }

    static func stop(_ core: CoreProcess, _ directory: URL) async {
        try? core.closeInput()
        _ = try? await core.waitForExit()
        try? FileManager.default.removeItem(at: directory)
    }

    enum Stall: String, CaseIterable {
        case headersThenSilence, oneByteASecond, chunkedThenSilence

        var behaviour: HostileServer.Behaviour {
            switch self {
            case .headersThenSilence: .stallAfterHeaders(contentLength: 100)
            case .oneByteASecond: .trickle(contentLength: 100, interval: .seconds(1))
            case .chunkedThenSilence: .chunkedThenSilence
            }
        }
    }

    @Test(arguments: Stall.allCases)
    func aStalledBodyIsATimeoutWithinTheDeadlineAndTheNextCallGoesOn(stall: Stall) async throws {
        let server = try HostileServer(Self.registeringThen(stall.behaviour), holdLimit: .seconds(30))
        defer { server.shutDown() }
        let (core, directory) = try await Self.startCore(server, timeout: 2)
        do {
            _ = try await core.waitForEvent("registrationUpdated")
            // A local read written behind the stalled call is answered first.
            try core.sendJSON(["jsonrpc": "2.0", "id": "save", "method": "saveUser", "params": [["firstName": "Ada"]]])
            try core.sendJSON(["jsonrpc": "2.0", "id": "read", "method": "getUser"])
            let start = ContinuousClock.now
            var order: [String] = []
            var save: JSONValue = .null
            while order.count < 2 {
                let message = try await core.readMessage(timeout: .seconds(30))
                guard let id = message["id"]?.stringValue, message["method"] == nil else { continue }
                order.append(id)
                if id == "save" { save = message }
                if id == "read" { #expect(message["result"]?["firstName"] == "Ada", "\(message)") }
            }
            let elapsed = ContinuousClock.now - start
            #expect(order == ["read", "save"], "getUser does not wait behind the stalled call")
            #expect(save["error"]?["data"]?["code"] == "TIMEOUT", "\(save)")
            #expect(save["error"]?["data"]?["pending"] == true, "the change is kept: \(save)")
            // The deadline (2 s) plus a margin for a loaded machine, far below the 30 s stall.
            #expect(elapsed < .seconds(8), "answered after \(elapsed)")

            server.become(Self.registeringThen(Self.user))
            let next = try await core.request("saveUser", params: [["lastName": "Lovelace"]], timeout: .seconds(20))
            #expect(next["result"]?["firstName"] == "Ada", "\(next)")
        } catch {
            await Self.stop(core, directory)
            throw error
        }
        await Self.stop(core, directory)
    }

    @Test func aStalledFirstRegistrationRecoversOnceTheServerAnswers() async throws {
        let server = try HostileServer(.stallAfterHeaders(contentLength: 100), holdLimit: .seconds(30))
        defer { server.shutDown() }
        let (core, directory) = try await Self.startCore(server, timeout: 1, retry: 0.2)
        do {
            // The first attempt stalls; calls meanwhile fail without hanging.
            let early = try await core.request("fetchInstallation", timeout: .seconds(20))
            #expect(["NO_REGISTRATION", "TIMEOUT"].contains(early["error"]?["data"]?["code"]?.stringValue ?? ""), "\(early)")
            server.become(Self.registeringThen(Self.user))
            let event = try await core.waitForEvent("registrationUpdated", timeout: .seconds(20))
            #expect(event["payload"] == "hostile-1", "\(event)")
            let saved = try await core.request("saveUser", params: [["firstName": "Ada"]], timeout: .seconds(20))
            #expect(saved["result"]?["firstName"] == "Ada", "\(saved)")
        } catch {
            await Self.stop(core, directory)
            throw error
        }
        await Self.stop(core, directory)
    }

    /// A redirect or a captive portal's page is not the Mobile API's answer: nothing is
    /// followed, the other host sees nothing, and the change is kept for later.
    @Test(arguments: ["redirect", "captivePortal"])
    func aRedirectOrAPortalPageKeepsTheChangePending(kind: String) async throws {
        let elsewhere = try HostileServer(Self.user)
        defer { elsewhere.shutDown() }
        let answer: HostileServer.Behaviour =
            kind == "redirect" ? .redirect(to: elsewhere.baseURL + "/mobile/1/appinstance/hostile-1/user") : .captivePortal
        let server = try HostileServer(Self.registeringThen(answer))
        defer { server.shutDown() }
        let (core, directory) = try await Self.startCore(server, timeout: 5)
        do {
            _ = try await core.waitForEvent("registrationUpdated")
            for method in ["saveUser", "saveInstallation"] {
                let params: JSONValue = method == "saveUser" ? [["firstName": "Ada"]] : [["customAttributes": ["k": "v"]]]
                let outcome = try await core.request(method, params: params, timeout: .seconds(20))
                #expect(outcome["error"]?["data"]?["pending"] == true, "\(method): \(outcome)")
            }
            #expect(try await core.request("depersonalize", timeout: .seconds(20))["result"] == "pending")
            #expect(elsewhere.connectionCount == 0, "the redirect was not followed")
        } catch {
            await Self.stop(core, directory)
            throw error
        }
        await Self.stop(core, directory)
    }
}
