import Foundation
import JSON
import Testing

/// The minting examples under `examples/mint-token/`: their tokens must be accepted by
/// the real server, exactly as tokens from `mmserver jwt` are.
@Suite("Token minting examples")
struct ServerLiveMintExamplesTests {
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/mint-token")

    static func interpreter(_ name: String) -> String? { ServerProcess.onPath(name) }

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await ServerProcess.runProgram(executable, arguments)
        return (result.status, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), result.stderr)
    }

    @Test("node mint.js", .enabled(if: ExternalTools.runs(interpreter("node") != nil), "node is not on PATH"))
    func node() async throws {
        try await check(interpreter: try #require(Self.interpreter("node")), script: "mint.js")
    }

    @Test("python3 mint.py", .enabled(if: ExternalTools.runs(interpreter("python3") != nil), "python3 is not on PATH"))
    func python() async throws {
        try await check(interpreter: try #require(Self.interpreter("python3")), script: "mint.py")
    }

    func check(interpreter: String, script: String) async throws {
        let server = try await ServerProcess.start()
        defer { server.terminate() }
        let app = try await server.createApplication(authorization: "JWT_ONLY")
        let pushRegId = try await server.registerInstallation(applicationCode: app.code)
        let path = Self.examples.appendingPathComponent(script).path
        let minted = try await Self.run(
            interpreter,
            [path, "--kid", app.keyId, "--secret", app.secret, "--application-code", app.code, "--sub", "alice", "--lifetime", "30"])
        #expect(minted.status == 0, "\(minted.stderr)")
        #expect(minted.stdout.split(separator: ".").count == 3)

        let (personalized, user) = try await server.personalizeAndFetch(pushRegId, as: "alice", token: minted.stdout)
        #expect(personalized.status == 200, "\(personalized.body)")
        #expect(user.status == 200)
        #expect(user.body["externalUserId"] == "alice")

        // A token for someone else, from the same script, is refused for alice's data.
        let other = try await Self.run(
            interpreter, [path, "--kid", app.keyId, "--secret", app.secret, "--application-code", app.code, "--sub", "bob"])
        let refused = try await server.mobile("GET", "/mobile/1/appinstance/\(pushRegId)/user", auth: "Bearer \(other.stdout)")
        #expect(refused.body["requestError"]?["serviceException"]?["messageId"] == "ACCESS_TOKEN_SUBJECT_MISMATCH")

        // Bad input is refused with a message and a non-zero status, no token printed.
        let bad = try await Self.run(interpreter, [path, "--kid", "k", "--secret", "not-hex", "--application-code", "a", "--sub", "s"])
        #expect(bad.status != 0)
        #expect(bad.stdout.isEmpty)
    }
}
