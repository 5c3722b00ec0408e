import Foundation
import JSON
import Testing

/// The core as a library (include/mmcore.h): loaded by Python through ctypes, and by the
/// C host that the other suites run against under `MMCORE_TRANSPORT=embedded`.
@Suite(.timeLimit(.minutes(3)))
struct EmbeddedLibraryTests {
    @Test("examples/embedded/ctypes_example.py runs a session in a Python process against mmserver",
          .enabled(if: ExternalTools.runs(ExternalTools.python != nil), "python3 missing"))
    func ctypesExample() async throws {
        let python = try #require(ExternalTools.python, "python3 is not on PATH")
        let script = CoreProcess.packageRoot.appendingPathComponent("examples/embedded/ctypes_example.py")
        let run = try await ServerProcess.runProgram("/usr/bin/env", [
            "MMSERVER_BIN=\(try ServerProcess.executable().path)", python, script.path,
            "--library", EmbeddedHost.library.path,
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let steps = try run.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let names = steps.compactMap { $0["step"]?.stringValue }
        for expected in ["init", "setUserDataJwt", "saveUser", "a line split across calls",
                         "token provider answered from inside the callback", "closed",
                         "closing again is an error, not a crash", "state persisted"] {
            #expect(names.contains(expected), "step \(expected) missing: \(names)")
        }
        for step in steps where step["step"] != nil {
            #expect(step["ok"] == true, "\(step)")
        }
        #expect(steps.last == ["done": true, "failures": 0], "\(run.stdout)")
    }

    /// `MMCORE_TRANSPORT=embedded` really puts the other suites on the library.
    @Test func theSelectedTransportIsTheOneLaunched() async throws {
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-transport-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        let core = try CoreProcess(arguments: ["--state-dir", stateDirectory.path])
        _ = try await core.request("getUser")
        try core.closeInput()
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
        let expected = EmbeddedHost.isSelected ? "serving in process" : "serving on stdin/stdout"
        #expect(core.standardError.contains(expected), "\(core.standardError)")
    }

    /// Both transports, one engine: the same input gives the same lines.
    @Test func theHostAndMmcoreAnswerTheSameInputAlike() async throws {
        let host = try EmbeddedHost.build.get()
        let mmcore = CoreProcess.mmcoreURL
        let input = [
            "not json", #"{"jsonrpc":"2.0","method":"getUser","id":1}"#, #"{"jsonrpc":"2.0","method":"foobar","id":2}"#,
            #"{"jsonrpc":"2.0","method":"saveUser","params":[1,2,3],"id":3}"#, #"{"jsonrpc":"2.0","id":4}"#,
            #"[{"jsonrpc":"2.0","method":"getInstallation","id":5},7,{"jsonrpc":"2.0","method":"event"}]"#, "[]",
            #"{"jsonrpc":"2.0","method":"rpc.discover","id":6}"#,
            #"{"jsonrpc":"2.0","method":"getUser","id":"unterminated"}"#,
        ]
        var outputs: [[String]] = []
        for executable in [mmcore, host] {
            let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-alike-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: stateDirectory) }
            let core = try CoreProcess(arguments: ["--state-dir", stateDirectory.path], executable: executable)
            try core.sendBytes(Array(input.joined(separator: "\n").utf8))
            try core.closeInput()
            let lines = try await core.remainingLines()
            #expect(try await core.waitForExit() == .init(status: 0, exited: true), "\(executable.lastPathComponent)")
            outputs.append(lines.sorted())
        }
        #expect(outputs[0].count >= 7, "\(outputs[0])")
        #expect(outputs[0] == outputs[1])
    }
}
