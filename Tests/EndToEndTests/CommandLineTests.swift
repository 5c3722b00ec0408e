import Foundation
import Testing

/// mmcore's options: a usage error says what is wrong on stderr, writes nothing on
/// stdout (the wrapper reads JSON there) and exits 64 (EX_USAGE) before serving.
@Suite struct CommandLineTests {
    @Test(arguments: [
        (["--bogus"], "Unknown option '--bogus'"),
        (["--max-line-bytes", "0"], "--max-line-bytes must be a positive number of bytes, got 0."),
        (["--max-line-bytes", "many"], "--max-line-bytes"),
        (["--max-messages-in-flight", "-3"], "--max-messages-in-flight"),
        (["--max-messages-in-flight"], "Missing value for '--max-messages-in-flight"),
        (["--log-level", "loud"], "The value 'loud' is invalid for '--log-level"),
        (["--state-dir"], "Missing value for '--state-dir"),
        (["extra"], "extra"),
    ])
    func aUsageErrorExits64WithTheReason(arguments: [String], reason: String) async throws {
        let core = try CoreProcess(arguments: arguments)
        let exit = try await core.waitForExit()
        #expect(exit == .init(status: 64, exited: true), "\(arguments)")
        #expect(core.standardOutputBytes.isEmpty, "nothing on stdout: \(arguments)")
        #expect(core.standardError.contains(reason), "\(arguments): \(core.standardError.prefix(300))")
        #expect(core.standardError.contains("Usage: mmcore"), "\(arguments)")
    }

    @Test func helpPrintsTheOptionsAndExits0() async throws {
        let core = try CoreProcess(arguments: ["--help"])
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
        let help = String(decoding: core.standardOutputBytes, as: UTF8.self)
        for option in ["--state-dir", "--log-level", "--max-line-bytes", "--max-messages-in-flight", "--print-schema", "--version"] {
            #expect(help.contains(option), "\(option) is not in --help")
        }
    }

    @Test func theOptionsTakeEffect() async throws {
        let core = try CoreProcess(arguments: ["--max-line-bytes=64", "--log-level", "critical"])
        try core.send(#"{"jsonrpc":"2.0","id":1,"method":"getUser","params":[],"padding":"\#(String(repeating: "x", count: 100))"}"#)
        let answer = try await core.readMessage()
        #expect(answer["error"]?["data"]?["code"] == "LINE_TOO_LONG", "\(answer)")
        try core.closeInput()
        #expect(try await core.waitForExit() == .init(status: 0, exited: true))
        #expect(!core.standardError.contains("serving"), "critical hides the info lines")
    }
}
