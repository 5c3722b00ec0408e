import Foundation
import JSON
import Testing

/// The service moves an application to another base URL with `New-Base-URL`
/// (`docs/contract/mobile-api.md`, "Dynamic base URL"): two mmservers on one database
/// play two data centres of one service; the first steers the application to the
/// second, and a running mmcore follows, and stays there after a restart.
@Suite struct DynamicBaseURLEndToEndTests {
    @Test func aRunningCoreMovesToTheSecondServerAndStaysThereAfterARestart() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-shared-\(UUID().uuidString).sqlite")
        let first = try await ServerProcess.start(arguments: ["--db", database.path])
        let second: ServerProcess
        do {
            second = try await ServerProcess.start(arguments: ["--db", database.path])
        } catch {
            first.terminate()
            throw error
        }
        let harness = try await CoreHarness.start(server: first)
        defer {
            harness.terminate()
            first.terminate()
            second.terminate()
            for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: database.path + suffix) }
        }
        try await harness.initializeAndRegister()
        #expect(try await harness.call("saveUser", [["firstName": "Ada"]]).result?["firstName"] == "Ada")

        let (status, body) = try await first.admin(
            "PUT", "/admin/applications/\(harness.application.code)/base-url", json: ["baseUrl": .string(second.url.absoluteString)])
        #expect(status == 200, "\(body)")

        // This answer carries New-Base-URL; the calls after it go to the second server.
        #expect(try await harness.call("saveUser", [["lastName": "Lovelace"]]).result?["lastName"] == "Lovelace")
        let firstSeq = try await first.lastRequestSeq()
        let secondSeq = try await second.lastRequestSeq()
        let fetched = try await harness.call("fetchUser")
        #expect(fetched.result?["firstName"] == "Ada" && fetched.result?["lastName"] == "Lovelace", "\(fetched)")
        #expect(try await first.requests(since: firstSeq).isEmpty, "nothing more reaches the first server")
        #expect(try await second.requests(since: secondSeq).map { $0["method"] } == ["GET"])

        try await harness.restartCore()
        #expect(try await harness.call("init", [harness.configuration]).result == .null)
        let afterRestart = try await second.lastRequestSeq()
        #expect(try await harness.call("fetchInstallation").result?["pushRegistrationId"] != nil)
        #expect(try await first.requests(since: firstSeq).isEmpty, "the restarted core stays on the second server")
        #expect(try await second.requests(since: afterRestart).count == 1)
        try await harness.validateAgainstSchema()
    }
}
