import ArgumentParser
import CoreService
import JSON
import JSONRPC
import Logging
import MobileMessaging

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `mmcore`: the user-data bridge core, spoken to in JSON-RPC 2.0 on stdin/stdout.
struct MMCore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmcore",
        abstract: "The Mobile Messaging user-data bridge core: JSON-RPC 2.0 over stdio.",
        discussion: """
            Reads one JSON-RPC message per line on stdin and writes one per line on stdout; \
            logs go to stderr. Stops when stdin closes or on SIGTERM, after letting running \
            requests finish, and exits 0. The methods are described by --print-schema.
            """,
        version: "mmcore \(CoreVersion.current)"
    )

    @Option(help: "Directory of the persisted state (default: $MMCORE_STATE_DIR, else the per-user data directory).")
    var stateDir: String?

    @Option(help: "Lowest level logged to stderr.")
    var logLevel: LogLevel = .info

    @Option(help: "Longest accepted input line in bytes; longer lines are skipped and answered with an error.")
    var maxLineBytes: Int = LineFramer.defaultMaxLineBytes

    @Option(help: "Messages read but not yet answered (queued lines plus running requests) before reading pauses.")
    var maxMessagesInFlight: Int = Connection.Options().maxMessagesInFlight

    @Flag(help: "Print the OpenRPC document describing the methods, and exit.")
    var printSchema = false

    /// For the test that keeps the method table and the schema equal in both directions.
    @Flag(help: .hidden)
    var listMethods = false

    func validate() throws {
        guard maxLineBytes > 0 else {
            throw ValidationError("--max-line-bytes must be a positive number of bytes, got \(maxLineBytes).")
        }
        guard maxMessagesInFlight > 0 else {
            throw ValidationError("--max-messages-in-flight must be a positive number, got \(maxMessagesInFlight).")
        }
    }

    func run() async throws {
        if printSchema {
            writeToStandardOutput(OpenRPCDocument.text)
            return
        }

        if listMethods {
            writeToStandardOutput(BridgeMethods.all.map { $0.name }.joined(separator: "\n") + "\n")
            return
        }

        StandardStreams.ignoreBrokenPipe()
        let output = try StandardStreams.takeStandardOutput()
        let level = logLevel.level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mmcore")

        let connection = Connection(
            input: STDIN_FILENO, output: output,
            options: Connection.Options(
                maxLineBytes: maxLineBytes, requestIDPrefix: "mmcore-", maxMessagesInFlight: maxMessagesInFlight),
            logger: logger)
        let signals = [SIGTERM, SIGINT].map { number in
            SignalObserver(signal: number) { [logger] in
                logger.info("received signal \(number); stopping")
                connection.shutdown()
            }
        }

        let session = CoreService.session(
            stateDirectory: resolvedStateDirectory(), connection: connection, logger: Logger(label: "mobile-messaging"))
        let registry = CoreService.registry(session: session)

        logger.info("mmcore \(CoreVersion.current) serving on stdin/stdout")
        await connection.serve(registry)
        await session.shutdown()
        signals.forEach { $0.cancel() }
        logger.info("stopped")
    }

    /// `--state-dir`, else `$MMCORE_STATE_DIR`, else the per-user data directory
    /// (`$XDG_DATA_HOME/mmcore`, else `~/.local/share/mmcore`).
    func resolvedStateDirectory() -> String {
        if let stateDir, !stateDir.isEmpty { return stateDir }
        func environment(_ name: String) -> String? {
            guard let value = getenv(name) else { return nil }
            let text = String(cString: value)
            return text.isEmpty ? nil : text
        }
        if let directory = environment("MMCORE_STATE_DIR") { return directory }
        if let dataHome = environment("XDG_DATA_HOME") { return dataHome + "/mmcore" }
        return (environment("HOME") ?? ".") + "/.local/share/mmcore"
    }
}

/// The `--log-level` values: swift-log's levels.
enum LogLevel: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}

/// Writes to the real standard output (for `--print-schema`, before any protocol starts).
func writeToStandardOutput(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        bytes = bytes.dropFirst(written)
    }
}

// Top-level code picks the synchronous `ParsableCommand.main()`, which cannot run an
// async command; inside an async function the async overload is chosen.
func runCommand() async {
    await MMCore.main()
}

await runCommand()
