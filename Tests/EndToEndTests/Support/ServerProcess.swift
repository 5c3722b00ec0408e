import Foundation
import JSON
import Synchronization
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `mmserver serve` child process, for black-box tests.
///
/// ```swift
/// let server = try await ServerProcess.start()          // --port 0 --in-memory
/// defer { server.terminate() }                         // or `await server.stop()`
/// let app = try await server.createApplication(authorization: "JWT_ONLY")
/// let token = try ServerProcess.mintToken(kid: app.keyId, secret: app.secret, applicationCode: app.code, sub: "alice")
/// let (status, body) = try await server.mobile("GET", "/mobile/1/appinstance/\(id)/user", auth: "Bearer \(token)")
/// ```
///
/// The binary is `MMSERVER_BIN` if set, else `mmserver` next to the test bundle, else
/// `.build/debug/mmserver` of this package. The server's stderr goes to `logFile`.
final class ServerProcess: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The base URL printed on the server's first stdout line, e.g. `http://127.0.0.1:43817`.
    let url: URL
    let adminToken: String
    /// The server's stderr (its logs).
    let logFile: URL
    private let process: Process
    private let exit: Awaited<Int32>

    private init(url: URL, adminToken: String, logFile: URL, process: Process, exit: Awaited<Int32>) {
        self.url = url
        self.adminToken = adminToken
        self.logFile = logFile
        self.process = process
        self.exit = exit
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    // MARK: Starting and stopping

    /// Starts `mmserver serve --port 0` with `arguments` (default `--in-memory`; pass
    /// `["--db", path]` for a file database) and waits for its URL line.
    static func start(
        arguments: [String] = ["--in-memory"], adminToken: String = "test-admin-\(UUID().uuidString)",
        timeout: Duration = .seconds(20)
    ) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = ["serve", "--port", "0", "--admin-token", adminToken, "--log-level", "debug"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("mmserver-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let exit = Awaited<Int32>()
        process.terminationHandler = { process in
            ChildProcesses.exited(process.processIdentifier)
            exit.record(process.terminationStatus)
        }
        try process.run()
        ChildProcesses.started(process)
        try? log.close()  // the child has its own copy

        // stdout is read to its end on a thread of its own (the server never blocks on a
        // full pipe); the first line is the URL.
        let output = LineQueue()
        readLinesOnThread(stdout.fileHandleForReading.fileDescriptor, line: { output.push($0) }) {
            withExtendedLifetime(stdout) { output.end() }
        }
        let line: String
        do {
            guard let first = try await output.next(timeout: timeout) else {
                throw Failure(description: "mmserver exited before printing its URL. stderr:\n\(contentsOf(logFile))")
            }
            line = String(decoding: first, as: UTF8.self)
        } catch is LineTimeout {
            process.terminate()
            throw Failure(description: "mmserver printed no URL within \(timeout). stderr:\n\(contentsOf(logFile))")
        }
        guard let url = URL(string: line), line.hasPrefix("http://") else {
            process.terminate()
            throw Failure(description: "mmserver's first line is not a URL: \(line)")
        }
        return ServerProcess(url: url, adminToken: adminToken, logFile: logFile, process: process, exit: exit)
    }

    /// Sends SIGTERM and waits (without holding a thread) for the process to exit;
    /// returns its exit status. A server that has not exited within `timeout` gets
    /// SIGKILL, and the test a failure to see (status -1).
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) async -> Int32 {
        terminate()
        if let status = await exit.wait(timeout: timeout) { return status }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = await exit.wait(timeout: .seconds(10))
        return -1
    }

    /// Sends SIGTERM without waiting (the server shuts down gracefully on it): for a
    /// `defer`, which cannot await. A server still running at the test process's exit is
    /// killed then (``ChildProcesses``).
    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Blocks the calling thread until the process has ended: only from a thread of the
    /// caller's own, never the cooperative pool the tests share.
    func waitUntilExitBlocking() {
        process.waitUntilExit()
    }

    var isRunning: Bool { process.isRunning }

    var processIdentifier: Int32 { process.processIdentifier }

    /// The server's stderr so far.
    func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    private static func contentsOf(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    /// `MMSERVER_BIN`, else `mmserver` beside the test binary, else `.build/debug/mmserver`.
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["MMSERVER_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var candidates: [URL] = []
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // Linux: .build/debug/<package>PackageTests.xctest; macOS: the .xctest bundle's
        // Contents/MacOS/<binary>, four levels below .build/debug.
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("mmserver"))
            directory = directory.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/mmserver"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw Failure(
            description: "mmserver not found (tried \(candidates.map(\.path))). Run `swift build --product mmserver` or set MMSERVER_BIN.")
    }

    // MARK: Running other mmserver commands

    /// Runs `mmserver <arguments>` to completion; returns stdout without the final newline.
    static func run(_ arguments: [String]) async throws -> String {
        let result = try await runProgram(try executable().path, arguments)
        guard result.status == 0 else {
            throw Failure(description: "mmserver \(arguments.first ?? "") exited \(result.status): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    /// Runs any program to completion and collects its output (for the examples' and
    /// the browser's tests too).
    ///
    /// The waiting happens on a thread of its own: Swift Testing runs tests in parallel on
    /// a cooperative pool as wide as the machine has cores (two here), and a test blocking
    /// a pool thread in `waitUntilExit` stalls every other test in the process.
    static func runProgram(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runProgramBlocking(executable, arguments) })
            }.start()
        }
    }

    /// The same, blocking the calling thread: only for synchronous contexts such as a
    /// test trait deciding whether a tool is usable.
    static func runProgramBlocking(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { ChildProcesses.exited($0.processIdentifier) }
        try process.run()
        ChildProcesses.started(process)
        // Drain stderr on another thread so that neither pipe can fill up and block the child.
        let errors = Mutex(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread {
            errors.withLock { $0 = stderr.fileHandleForReading.readDataToEndOfFile() }
            drained.signal()
        }.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        return (
            process.terminationStatus, String(decoding: output, as: UTF8.self),
            String(decoding: errors.withLock { $0 }, as: UTF8.self)
        )
    }

    /// The path of `name` on PATH, or nil.
    static func onPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A token minted by `mmserver jwt`, as an app's backend would.
    static func mintToken(
        kid: String, secret: String, applicationCode: String, sub: String, lifetime: Int = 60, iatOffset: Int = 0
    ) async throws -> String {
        try await run([
            "jwt", "--kid", kid, "--secret", secret, "--application-code", applicationCode, "--sub", sub,
            "--lifetime=\(lifetime)", "--iat-offset=\(iatOffset)",
        ])
    }

    // MARK: HTTP

    struct HTTPResult: Sendable {
        var status: Int
        var headers: [String: String]
        /// The parsed body; `.null` for an empty or non-JSON body (see `text`).
        var body: JSONValue
        var text: String
    }

    /// Any request to the server. `json` is sent as the body with `Content-Type: application/json`.
    func request(
        _ method: String, _ path: String, headers: [String: String] = [:], json: JSONValue? = nil
    ) async throws -> HTTPResult {
        guard let target = URL(string: url.absoluteString + path) else {
            throw Failure(description: "bad path \(path)")
        }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.timeoutInterval = 30
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.serializedBytes)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw Failure(description: "not an HTTP response") }
        var responseHeaders: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { responseHeaders[name.lowercased()] = value }
        }
        let body = (try? JSONParser.parse(Array(data))) ?? .null
        return HTTPResult(
            status: http.statusCode, headers: responseHeaders, body: body, text: String(decoding: data, as: UTF8.self))
    }

    /// The admin API, with the admin token.
    func admin(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> (status: Int, body: JSONValue) {
        let result = try await request(method, path, headers: ["Authorization": "Bearer \(adminToken)"], json: json)
        return (result.status, result.body)
    }

    /// The Mobile API with `Authorization: <auth>` (`"App <code>"` or `"Bearer <jwt>"`).
    func mobile(
        _ method: String, _ path: String, auth: String?, json: JSONValue? = nil, pushRegistrationId: String? = nil
    ) async throws -> (status: Int, body: JSONValue) {
        var headers: [String: String] = [:]
        if let auth { headers["Authorization"] = auth }
        if let pushRegistrationId { headers["pushregistrationid"] = pushRegistrationId }
        let result = try await request(method, path, headers: headers, json: json)
        return (result.status, result.body)
    }

    /// Creates an application profile with one key.
    func createApplication(
        authorization: String = "ALLOW_ALL", code: String? = nil
    ) async throws -> (code: String, keyId: String, secret: String) {
        var body: JSONObject = ["userDataAuthorization": .string(authorization)]
        if let code { body["code"] = .string(code) }
        let (status, application) = try await admin("POST", "/admin/applications", json: .object(body))
        guard status == 201, let applicationCode = application["code"]?.stringValue else {
            throw Failure(description: "creating an application failed: \(status) \(application)")
        }
        let (keyStatus, key) = try await admin("POST", "/admin/applications/\(applicationCode)/keys")
        guard keyStatus == 201, let keyId = key["keyId"]?.stringValue, let secret = key["secret"]?.stringValue else {
            throw Failure(description: "creating a key failed: \(keyStatus) \(key)")
        }
        return (applicationCode, keyId, secret)
    }

    /// What an app does first with a fresh token: personalizes the installation as
    /// `externalUserId` with `Bearer <token>`, then reads the user back with it.
    func personalizeAndFetch(
        _ pushRegistrationId: String, as externalUserId: String, token: String
    ) async throws -> (personalized: (status: Int, body: JSONValue), user: (status: Int, body: JSONValue)) {
        let personalized = try await mobile(
            "POST", "/mobile/1/appinstance/\(pushRegistrationId)/personalize", auth: "Bearer \(token)",
            json: ["userIdentity": ["externalUserId": .string(externalUserId)]])
        let user = try await mobile("GET", "/mobile/1/appinstance/\(pushRegistrationId)/user", auth: "Bearer \(token)")
        return (personalized, user)
    }

    /// Registers an installation with `App <code>`; returns its pushRegId.
    func registerInstallation(applicationCode: String, json: JSONValue = ["os": "Linux"]) async throws -> String {
        let (status, body) = try await mobile("POST", "/mobile/1/appinstance", auth: "App \(applicationCode)", json: json)
        guard (200..<300).contains(status), let pushRegId = body["pushRegId"]?.stringValue else {
            throw Failure(description: "registration failed: \(status) \(body)")
        }
        return pushRegId
    }

    /// The request log: Mobile API requests with a sequence number above `since`.
    func requests(since: Int = 0) async throws -> [JSONValue] {
        let (status, body) = try await admin("GET", "/admin/requests?since=\(since)")
        guard status == 200, let entries = body.arrayValue else {
            throw Failure(description: "reading the request log failed: \(status) \(body)")
        }
        return entries
    }

    /// The sequence number of the newest logged request (0 if none): pass it to
    /// `requests(since:)` later to see only what came after.
    func lastRequestSeq() async throws -> Int {
        try await requests().last?["seq"]?.numberValue?.intValue ?? 0
    }
}
