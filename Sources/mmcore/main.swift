import CoreService
import JSON
import JSONRPC
import Logging
import MMCoreBridge
import MMCoreEngine

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `mmcore`: the user-data bridge core, spoken to in JSON-RPC 2.0 on stdin/stdout.
struct MMCore {
    let options: CommandLineOptions

    /// Parses the command line and runs; returns the process's exit code.
    static func main() async -> Int32 {
        let options: CommandLineOptions
        do {
            options = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            writeToStandardError(error.text)
            return UsageError.exitCode
        }
        do {
            try await MMCore(options: options).run()
            return 0
        } catch {
            // As ArgumentParser reported an error thrown by run(): its description, exit 1.
            writeToStandardError("Error: \(String(describing: error))\n")
            return 1
        }
    }

    func run() async throws {
        switch options.action {
        case .serve: break
        case .printHelp:
            writeToStandardOutput(CommandLineOptions.helpText)
            return
        case .printVersion:
            writeToStandardOutput("mmcore \(CoreVersion.current)\n")
            return
        case .printSchema:
            writeToStandardOutput(OpenRPCDocument.text)
            return
        case .listMethods:
            writeToStandardOutput(BridgeMethods.all.map { $0.name }.joined(separator: "\n") + "\n")
            return
        }

        StandardStreams.ignoreBrokenPipe()
        let output = try StandardStreams.takeStandardOutput()
        let level = options.logLevel
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, level: level) }
        let logger = Logger(label: "mmcore")

        let connection = Connection(
            input: STDIN_FILENO, output: output,
            options: Connection.Options(
                maxLineBytes: options.maxLineBytes, requestIDPrefix: "mmcore-",
                maxMessagesInFlight: options.maxMessagesInFlight),
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
        if let stateDir = options.stateDir, !stateDir.isEmpty { return stateDir }
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

/// Writes to the real standard output (for `--print-schema`, before any protocol starts).
func writeToStandardOutput(_ text: String) {
    writeAll(text, to: STDOUT_FILENO)
}

/// Writes to standard error (usage errors, before any logging is set up).
func writeToStandardError(_ text: String) {
    writeAll(text, to: STDERR_FILENO)
}

private func writeAll(_ text: String, to descriptor: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        bytes = bytes.dropFirst(written)
    }
}

exit(await MMCore.main())
