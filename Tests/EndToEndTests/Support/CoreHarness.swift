import Foundation
import JSON
import Testing

/// One `mmcore` talking to one `mmserver` application, the way an app runs: the server
/// on a free loopback port, the core spawned with its own state directory. Every
/// response and event is recorded, and ``validateAgainstSchema()`` checks them all
/// against `schema/openrpc.json`, so the schema and the code cannot drift.
final class CoreHarness: @unchecked Sendable {
    // @unchecked: `records` is guarded by `lock`; the rest is set once in init.
    let server: ServerProcess
    let application: (code: String, keyId: String, secret: String)
    let stateDirectory: URL
    private(set) var core: CoreProcess
    private let lock = NSLock()
    private var records: [JSONValue] = []
    private let ownsServer: Bool

    /// What a call answered: its result, or the error's `data` (what apps switch on).
    enum Outcome: CustomStringConvertible {
        case result(JSONValue)
        case error(code: Int, data: JSONValue)

        var result: JSONValue? { if case .result(let value) = self { value } else { nil } }
        var errorCode: String? { if case .error(_, let data) = self { data["code"]?.stringValue } else { nil } }
        var errorData: JSONValue? { if case .error(_, let data) = self { data } else { nil } }
        var description: String {
            switch self {
            case .result(let value): "result \(value.serialized.prefix(300))"
            case .error(let code, let data): "error \(code) \(data.serialized.prefix(300))"
            }
        }
    }

    private init(server: ServerProcess, ownsServer: Bool, application: (code: String, keyId: String, secret: String),
                 stateDirectory: URL, core: CoreProcess) {
        self.server = server
        self.ownsServer = ownsServer
        self.application = application
        self.stateDirectory = stateDirectory
        self.core = core
    }

    /// Starts a server (unless one is given) with an application of the given setting,
    /// and an mmcore with a fresh state directory (not yet initialized).
    static func start(
        authorization: String = "ALLOW_ALL", server: ServerProcess? = nil, coreArguments: [String] = []
    ) async throws -> CoreHarness {
        let running: ServerProcess
        if let server { running = server } else { running = try await ServerProcess.start() }
        let application = try await running.createApplication(authorization: authorization)
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-e2e-\(UUID().uuidString)")
        let core = try CoreProcess(arguments: ["--state-dir", stateDirectory.path] + coreArguments)
        return CoreHarness(server: running, ownsServer: server == nil, application: application,
                           stateDirectory: stateDirectory, core: core)
    }

    /// The `init` configuration pointing at the local server.
    var configuration: JSONValue {
        ["applicationCode": .string(application.code), "backendBaseURL": .string(server.url.absoluteString),
         "requestTimeoutSeconds": 5]
    }

    /// `init`, then waits for `registrationUpdated`; returns the pushRegistrationId.
    @discardableResult
    func initializeAndRegister(configuration extra: JSONObject = [:]) async throws -> String {
        var configuration = self.configuration.objectValue!
        for (key, value) in extra { configuration[key] = value }
        let answer = try await call("init", [.object(configuration)])
        guard answer.result == .null else { throw CoreProcess.Failure(description: "init answered \(answer)") }
        let event = try await core.waitForEvent("registrationUpdated")
        record(["event": event])
        guard let id = event["payload"]?.stringValue else {
            throw CoreProcess.Failure(description: "registrationUpdated without an id: \(event)")
        }
        return id
    }

    /// Calls `method` and records the response for the schema check.
    func call(_ method: String, _ params: JSONValue? = nil, timeout: Duration = .seconds(15)) async throws -> Outcome {
        let response = try await core.request(method, params: params, timeout: timeout)
        record(["method": .string(method), "response": response])
        if let error = response["error"] {
            return .error(code: error["code"]?.numberValue?.intValue ?? 0, data: error["data"] ?? .null)
        }
        return .result(response["result"] ?? .null)
    }

    /// A token signed with the application's key, as the app's backend would mint it.
    func token(for sub: String, lifetime: Int = 300) async throws -> String {
        try await ServerProcess.mintToken(
            kid: application.keyId, secret: application.secret, applicationCode: application.code, sub: sub,
            lifetime: lifetime)
    }

    /// Restarts mmcore on the same state directory (closing the old one's input first).
    func restartCore(arguments: [String] = []) async throws {
        try core.closeInput()
        _ = try await core.waitForExit()
        core = try CoreProcess(arguments: ["--state-dir", stateDirectory.path] + arguments)
    }

    /// `kill -9`s mmcore (at whatever instant it is) and starts a new one on the same
    /// state directory.
    func crashAndRestartCore(arguments: [String] = []) async throws {
        core.killHard()
        _ = try await core.waitForExit()
        core = try CoreProcess(arguments: ["--state-dir", stateDirectory.path] + arguments)
    }

    /// Every file under the state directory, with its contents.
    func stateFiles() throws -> [(path: String, contents: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: stateDirectory.path)
        return try names.map { name in
            let path = stateDirectory.appendingPathComponent(name).path
            return (path, String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self))
        }
    }

    private func record(_ value: JSONValue) {
        lock.withLock { records.append(value) }
    }

    /// Validates every recorded response and event against `schema/openrpc.json` with
    /// Python's `jsonschema` (scripts/validate-responses).
    func validateAgainstSchema(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for event in core.events {
            record(["event": event["params"] ?? .null])
        }
        let lines = lock.withLock { records.map(\.serialized) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-records-\(UUID().uuidString).jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = CoreProcess.packageRoot.appendingPathComponent("scripts/validate-responses").path
        let result = try await ServerProcess.runProgram("/usr/bin/env", ["python3", script, file.path])
        #expect(result.status == 0, "schema validation failed:\n\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    }

    /// Stops mmcore (and the server when this harness started it) from a `defer`, which
    /// cannot await. Both get SIGTERM at once (each shuts down gracefully on it), so they
    /// are on their way out even if the test process exits next, as it may after the last
    /// test; the exits are awaited, and the state directory removed, on a thread of its
    /// own (never the cooperative pool's) rather than in a task the process might never run.
    func terminate() {
        let core = self.core
        let server = ownsServer ? self.server : nil
        let stateDirectory = self.stateDirectory
        core.terminate()
        server?.terminate()
        Thread {
            core.waitUntilExitBlocking()
            server?.waitUntilExitBlocking()
            try? FileManager.default.removeItem(at: stateDirectory)
        }.start()
    }

    /// Stops mmcore (and the server when this harness started it), waiting for both.
    func stop() async {
        try? core.closeInput()
        _ = try? await core.waitForExit()
        if ownsServer { await server.stop() }
        try? FileManager.default.removeItem(at: stateDirectory)
    }
}
