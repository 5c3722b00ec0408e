import JSONRPC
import Logging

/// mmcore's command line, parsed by hand.
///
/// Wrappers spawn mmcore at every app start, so the serving path must not pay for what
/// ArgumentParser does before `run()`: it reflects over the command's properties
/// (`Mirror`) and casts them dynamically, and the first such casts make the Swift runtime
/// scan every protocol conformance record of the executable (NIO, Foundation, ...).
/// Under callgrind that was 65% of the instructions of a whole start-up (spawn, `init`,
/// answer, exit). Seven options do not need it. The options, the help text, the errors
/// (on stderr, exit code 64, `EX_USAGE`) and their precedence are ArgumentParser's, as
/// the wrappers and scripts saw them before.
struct CommandLineOptions: Equatable {
    enum Action: Equatable {
        case serve, printHelp, printVersion, printSchema, listMethods
    }

    var action = Action.serve
    var stateDir: String?
    var logLevel = Logger.Level.info
    var maxLineBytes = LineFramer.defaultMaxLineBytes
    var maxMessagesInFlight = Connection.Options().maxMessagesInFlight

    /// Parses the arguments (without the program name).
    ///
    /// Precedence, as with ArgumentParser: `-h`/`--help` anywhere wins; then an option
    /// missing its value is an error; then `--version` anywhere wins over the other
    /// errors; then the first other error; then the values are validated.
    static func parse(_ arguments: [String]) throws(UsageError) -> CommandLineOptions {
        var options = CommandLineOptions()
        var firstError: UsageError?
        var version = false
        var printSchema = false
        var listMethods = false

        let endOfOptions = arguments.firstIndex(of: "--") ?? arguments.endIndex
        if arguments[..<endOfOptions].contains(where: { $0 == "-h" || $0 == "--help" }) {
            options.action = .printHelp
            return options
        }

        var index = arguments.startIndex
        func note(_ error: UsageError) { if firstError == nil { firstError = error } }
        while index < endOfOptions {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-") else {
                note(UsageError("Unexpected argument '\(argument)'"))
                continue
            }
            let (name, inlineValue) = split(argument)
            if let flag = Flag(rawValue: name) {
                switch flag {
                case .version: version = true  // ArgumentParser ignores a value given to it
                case .printSchema, .listMethods:
                    if let inlineValue {
                        note(UsageError("The option '\(name)' does not take any value, but '\(inlineValue)' was specified."))
                    } else if flag == .printSchema {
                        printSchema = true
                    } else {
                        listMethods = true
                    }
                }
                continue
            }
            guard let option = ValueOption(rawValue: name) else {
                note(UsageError("Unknown option '\(name)'"))
                continue
            }
            // As with ArgumentParser, an argument that starts with "-" is never a value.
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < endOfOptions, !arguments[index].hasPrefix("-") {
                value = arguments[index]
                index += 1
            } else {
                value = ""
            }
            guard !value.isEmpty else { throw UsageError("Missing value for '\(option.synopsis)'", help: option) }
            do throws(UsageError) {
                try options.set(option, value)
            } catch {
                note(error)
            }
        }
        for argument in arguments[endOfOptions...].dropFirst() {
            note(UsageError("Unexpected argument '\(argument)'"))
        }

        if version {
            options.action = .printVersion
            return options
        }
        if let firstError { throw firstError }
        guard options.maxLineBytes > 0 else {
            throw UsageError("--max-line-bytes must be a positive number of bytes, got \(options.maxLineBytes).")
        }
        guard options.maxMessagesInFlight > 0 else {
            throw UsageError("--max-messages-in-flight must be a positive number, got \(options.maxMessagesInFlight).")
        }
        // run() looked at --print-schema before --list-methods.
        if printSchema {
            options.action = .printSchema
        } else if listMethods {
            options.action = .listMethods
        }
        return options
    }

    private mutating func set(_ option: ValueOption, _ value: String) throws(UsageError) {
        switch option {
        case .stateDir:
            stateDir = value
        case .logLevel:
            guard let level = Logger.Level(rawValue: value) else {
                let choices = Logger.Level.allCases.map { "  - \($0.rawValue)" }.joined(separator: "\n")
                throw UsageError(
                    "The value '\(value)' is invalid for '\(option.synopsis)'. Please provide one of the following:\n\(choices)",
                    help: option)
            }
            logLevel = level
        case .maxLineBytes, .maxMessagesInFlight:
            guard let number = Int(value) else {
                throw UsageError("The value '\(value)' is invalid for '\(option.synopsis)'", help: option)
            }
            if option == .maxLineBytes { maxLineBytes = number } else { maxMessagesInFlight = number }
        }
    }

    /// `--name=value` -> (`--name`, `value`); anything else -> (argument, nil).
    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    // MARK: The options

    private enum Flag: String {
        case version = "--version", printSchema = "--print-schema"
        /// Hidden: for the test that keeps the method table and the schema equal.
        case listMethods = "--list-methods"
    }

    enum ValueOption: String, CaseIterable {
        case stateDir = "--state-dir", logLevel = "--log-level", maxLineBytes = "--max-line-bytes"
        case maxMessagesInFlight = "--max-messages-in-flight"

        /// `--state-dir <state-dir>`
        var synopsis: String { "\(rawValue) <\(rawValue.dropFirst(2))>" }

        var help: String {
            switch self {
            case .stateDir: "Directory of the persisted state (default: $MMCORE_STATE_DIR, else the per-user data directory)."
            case .logLevel: "Lowest level logged to stderr."
            case .maxLineBytes: "Longest accepted input line in bytes; longer lines are skipped and answered with an error."
            case .maxMessagesInFlight:
                "Messages read but not yet answered (queued lines plus running requests) before reading pauses."
            }
        }
    }
}

/// A command line mmcore cannot run with: printed to stderr with the usage, exit 64.
struct UsageError: Error, Equatable {
    let message: String
    /// The option whose one-line help is shown with the error.
    let help: CommandLineOptions.ValueOption?

    init(_ message: String, help: CommandLineOptions.ValueOption? = nil) {
        self.message = message
        self.help = help
    }

    /// What ArgumentParser printed: the error, the option's help, the usage, a pointer to --help.
    var text: String {
        var lines = ["Error: \(message)"]
        if let help { lines.append("Help:  \(help.synopsis)  \(help.help)") }
        lines.append("Usage: \(CommandLineOptions.usage)")
        lines.append("  See 'mmcore --help' for more information.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `EX_USAGE` from sysexits.h, ArgumentParser's code for a command line error.
    static let exitCode: Int32 = 64
}

// MARK: - Help

extension CommandLineOptions {
    static let usage =
        "mmcore [--state-dir <state-dir>] [--log-level <log-level>] [--max-line-bytes <max-line-bytes>] "
        + "[--max-messages-in-flight <max-messages-in-flight>] [--print-schema]"

    /// `--help`: laid out as ArgumentParser laid it out (80 columns).
    static var helpText: String {
        let defaults = CommandLineOptions()
        return """
            OVERVIEW: The Mobile Messaging user-data bridge core: JSON-RPC 2.0 over stdio.

            Reads one JSON-RPC message per line on stdin and writes one per line on stdout;
            logs go to stderr. Stops when stdin closes or on SIGTERM, after letting running
            requests finish, and exits 0. The methods are described by --print-schema.

            USAGE: \(usage)

            OPTIONS:
              --state-dir <state-dir> Directory of the persisted state (default:
                                      $MMCORE_STATE_DIR, else the per-user data directory).
              --log-level <log-level> Lowest level logged to stderr. (values: trace, debug,
                                      info, notice, warning, error, critical; default: info)
              --max-line-bytes <max-line-bytes>
                                      Longest accepted input line in bytes; longer lines
                                      are skipped and answered with an error. (default:
                                      \(defaults.maxLineBytes))
              --max-messages-in-flight <max-messages-in-flight>
                                      Messages read but not yet answered (queued lines plus
                                      running requests) before reading pauses. (default:
                                      \(defaults.maxMessagesInFlight))
              --print-schema          Print the OpenRPC document describing the methods,
                                      and exit.
              --version               Show the version.
              -h, --help              Show help information.


            """
    }
}
