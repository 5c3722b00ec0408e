import Foundation
import JSON
import Testing

/// 1,000 requests in flight at once, mixed across methods, through one `mmcore` talking
/// to a live `mmserver`: every id is answered exactly once, and mmcore's peak resident
/// memory (VmHWM) stays bounded.
@Suite(.timeLimit(.minutes(3)))
struct SoakTests {
    static let requestCount = 1000
    static let peakMemoryBound = 200 * 1024 * 1024

    @Test func aThousandConcurrentRequestsAreEachAnsweredOnceWithinBoundedMemory() async throws {
        let harness = try await CoreHarness.start()
        defer { harness.terminate() }
        try await harness.initializeAndRegister()
        let token = try await harness.token(for: "soak-user")
        // The installation belongs to the token's subject, so user calls can succeed.
        #expect(try await harness.call("setUserDataJwt", [.string(token)]).result == .null)
        let personalized = try await harness.call("personalize", [["userIdentity": ["externalUserId": "soak-user"]]])
        #expect(personalized.result != nil, "\(personalized)")
        let started = ContinuousClock.now

        /// What each request must get: a result or an application error, or this protocol error code.
        var protocolError: [String: Int] = [:]
        var input = ""
        for index in 0..<Self.requestCount {
            let id = "soak-\(index)"
            let request: String
            switch index % 9 {
            case 0: request = #"{"jsonrpc":"2.0","method":"getUser","id":"\#(id)"}"#
            case 1: request = #"{"jsonrpc":"2.0","method":"saveUser","params":[{"firstName":"Soak \#(index)"}],"id":"\#(id)"}"#
            case 2: request = #"{"jsonrpc":"2.0","method":"fetchUser","id":"\#(id)"}"#
            case 3: request = #"{"jsonrpc":"2.0","method":"fetchInstallation","params":[],"id":"\#(id)"}"#
            case 4: request = #"{"jsonrpc":"2.0","method":"setUserDataJwt","params":{"jwt":"\#(token)"},"id":"\#(id)"}"#
            case 5:
                request = #"{"jsonrpc":"2.0","method":"noSuchMethod","id":"\#(id)"}"#
                protocolError[id] = -32601
            case 6:
                request = #"{"jsonrpc":"2.0","method":"saveUser","params":["a","b","c"],"id":"\#(id)"}"#
                protocolError[id] = -32602
            case 7:
                request = #"{"jsonrpc":"1.0","method":"getUser","id":"\#(id)"}"#
                protocolError[id] = -32600
            default: request = #"{"jsonrpc":"2.0","method":"getInstallation","id":"\#(id)"}"#
            }
            input += request + "\n"
        }
        // All at once: every request is in flight before the first answer is read.
        try harness.core.sendBytes(Array(input.utf8))

        var answers: [String: Int] = [:]
        var outcomes: [String: Int] = [:]  // "result", or the error's data code / numeric code
        while answers.count < Self.requestCount {
            let message = try await harness.core.readMessage(timeout: .seconds(60))
            if message["method"] != nil { continue }  // an event
            let id = try #require(message["id"]?.stringValue, "an answer without a string id: \(message)")
            answers[id, default: 0] += 1
            let outcome = message["result"] != nil ? "result" : message["error"]?["data"]?["code"]?.stringValue
            outcomes[outcome ?? message["error"]?["code"]?.serialized ?? "?", default: 0] += 1
            if let code = protocolError[id] {
                #expect(message["error"]?["code"]?.numberValue?.intValue == code, "\(id): \(message)")
            } else {
                let errorCode = message["error"]?["code"]?.numberValue?.intValue
                #expect((message["result"] != nil) != (errorCode != nil), "\(id): \(message)")
                #expect(errorCode.map { !(-32768...(-32000)).contains($0) } ?? true, "a protocol error for a valid request: \(message)")
            }
        }
        let answeredIn = ContinuousClock.now - started
        let peak = try Self.peakResidentBytes(of: harness.core.processIdentifier)

        try harness.core.closeInput()
        let late = try await harness.core.remainingLines(timeout: .seconds(30))
        for line in late {
            guard let id = try JSONParser.parse(line)["id"]?.stringValue else { continue }
            answers[id, default: 0] += 1
        }
        #expect(try await harness.core.waitForExit() == CoreProcess.Exit(status: 0, exited: true))

        print("""
            Soak: \(Self.requestCount) requests answered in \(answeredIn) \
            (\(outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))); \
            mmcore peak RSS (VmHWM) \(peak / 1024 / 1024) MiB
            """)
        #expect(answers.count == Self.requestCount)
        let repeated = answers.filter { $0.value != 1 }
        #expect(repeated.isEmpty, "answered more than once: \(repeated.keys.sorted().prefix(10))")
        #expect(peak < Self.peakMemoryBound, "mmcore's peak RSS \(peak / 1024 / 1024) MiB is over \(Self.peakMemoryBound / 1024 / 1024) MiB")
    }

    /// A flood of requests written faster than mmcore parses them (many small values per
    /// line): with input backpressure the reader pauses, so memory is bounded by the limit
    /// of messages in flight, not by the size of the flood. Measured on the CI machine:
    /// ~30 MiB peak; with `--max-messages-in-flight 1000000` (no effective limit) the peak
    /// grows with the flood, ~180 MiB for 177 MiB of input.
    @Test func aFloodStaysWithinBoundedMemory() async throws {
        let lineCount = 11_000
        let floodBound = 80 * 1024 * 1024
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-flood-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        let core = try CoreProcess(arguments: ["--state-dir", stateDirectory.path, "--log-level", "critical"])
        let list = Array(repeating: #"{"a":[1,2,{"b":null}]}"#, count: 400).joined(separator: ",")
        var flood: [UInt8] = []
        for index in 0..<lineCount {
            let line = #"{"jsonrpc":"2.0","method":"saveUser","params":[{"firstName":"x","customAttributes":{"list":[\#(list)]}}],"id":\#(index)}"#
            flood += Array(line.utf8)
            flood.append(0x0A)
        }
        let started = ContinuousClock.now
        try core.sendBytes(flood)  // returns once mmcore has read all but the pipe's last 64 KiB
        var lines: [String] = []
        for _ in 0..<lineCount { lines.append(try await core.readLine(timeout: .seconds(60))) }
        let peak = try Self.peakResidentBytes(of: core.processIdentifier)  // before it exits
        try core.closeInput()
        #expect(try await core.remainingLines().isEmpty)
        #expect(try await core.waitForExit() == CoreProcess.Exit(status: 0, exited: true))
        let ids = Set(lines.compactMap { try? JSONParser.parse($0)["id"]?.numberValue?.intValue })
        print("""
            Soak flood: \(lineCount) lines (\(flood.count / 1024 / 1024) MiB) answered in \(ContinuousClock.now - started); \
            mmcore peak RSS (VmHWM) \(peak / 1024 / 1024) MiB
            """)
        #expect(lines.count == lineCount && ids.count == lineCount)
        #expect(peak < floodBound, "mmcore's peak RSS \(peak / 1024 / 1024) MiB is over \(floodBound / 1024 / 1024) MiB")
    }

    /// `VmHWM` of `/proc/<pid>/status`: the process's peak resident set, in bytes.
    static func peakResidentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
        else {
            throw CoreProcess.Failure(description: "no VmHWM in /proc/\(pid)/status")
        }
        return kibibytes * 1024
    }
}
