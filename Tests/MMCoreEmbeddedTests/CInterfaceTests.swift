import CMMCore
import Foundation
import JSON
import Synchronization
import Testing

/// The C interface (mmcore.h) called in process the way a C host calls it: through the
/// header's declarations, with C callbacks and a context pointer.
@Suite(.timeLimit(.minutes(2)))
struct CInterfaceTests {
    private static let getUser = #"{"jsonrpc":"2.0","method":"getUser","id":1}"# + "\n"

    // MARK: Errors of the interface itself

    @Test func openRefusesMissingAndInvalidArguments() {
        let recorder = CoreRecorder()
        var handle: mmcore_handle = 0
        var options = CoreRecorder.options(directory: recorder.stateDirectory.path, context: recorder)
        #expect(mmcore_open(nil, &handle) == MMCORE_ERROR_NULL_ARGUMENT)
        #expect(mmcore_open(&options, nil) == MMCORE_ERROR_NULL_ARGUMENT)

        var older = options
        older.size = MemoryLayout<mmcore_options>.size - 1
        #expect(mmcore_open(&older, &handle) == MMCORE_ERROR_INVALID_ARGUMENT)
        var noOutput = options
        noOutput.output = nil
        #expect(mmcore_open(&noOutput, &handle) == MMCORE_ERROR_NULL_ARGUMENT)
        var noDirectory = options
        noDirectory.state_directory = nil
        #expect(mmcore_open(&noDirectory, &handle) == MMCORE_ERROR_NULL_ARGUMENT)
        var emptyDirectory = options
        emptyDirectory.state_directory = UnsafePointer(strdup(""))
        #expect(mmcore_open(&emptyDirectory, &handle) == MMCORE_ERROR_INVALID_ARGUMENT)
        var badLevel = options
        badLevel.log_level = 8
        #expect(mmcore_open(&badLevel, &handle) == MMCORE_ERROR_INVALID_ARGUMENT)
        var hugeLimit = options
        hugeLimit.max_line_bytes = -1  // SIZE_MAX from C
        #expect(mmcore_open(&hugeLimit, &handle) == MMCORE_ERROR_INVALID_ARGUMENT)
        #expect(handle == 0, "no failed open stores a handle")
    }

    @Test func aClosedOrUnknownHandleIsRefused() async throws {
        let recorder = CoreRecorder()
        #expect(recorder.open() == MMCORE_OK)
        #expect(await recorder.close() == MMCORE_OK)
        #expect(await recorder.close() == MMCORE_ERROR_CLOSED)
        #expect(await recorder.send(Self.getUser) == MMCORE_ERROR_CLOSED)
        #expect(mmcore_close(0) == MMCORE_ERROR_CLOSED)
        #expect(mmcore_input(recorder.handle &+ 1_000_000, nil, 0) == MMCORE_ERROR_CLOSED)
        #expect(mmcore_input(recorder.handle, nil, 5) == MMCORE_ERROR_NULL_ARGUMENT)
        #expect(recorder.lines.isEmpty)
    }

    @Test func aStateDirectoryOpenInThisProcessIsRefused() async throws {
        let first = CoreRecorder()
        try FileManager.default.createDirectory(at: first.stateDirectory, withIntermediateDirectories: true)
        #expect(first.open() == MMCORE_OK)
        let second = CoreRecorder()
        // The same directory spelled another way.
        #expect(second.open(directory: first.stateDirectory.path + "/./") == MMCORE_ERROR_STATE_DIRECTORY_IN_USE)
        #expect(await first.close() == MMCORE_OK)
        #expect(second.open(directory: first.stateDirectory.path) == MMCORE_OK, "free again once closed")
        #expect(await second.close() == MMCORE_OK)
    }

    @Test(arguments: [MMCORE_OK, MMCORE_ERROR_NULL_ARGUMENT, MMCORE_ERROR_INVALID_ARGUMENT, MMCORE_ERROR_CLOSED,
                      MMCORE_ERROR_STATE_DIRECTORY_IN_USE, MMCORE_ERROR_IN_CALLBACK])
    func everyStatusHasItsMessage(status: Int32) {
        let message = String(cString: mmcore_status_message(status))
        #expect(!message.isEmpty && message != "unknown status code")
        #expect(String(cString: mmcore_status_message(99)) == "unknown status code")
    }

    // MARK: The same protocol as stdin/stdout

    @Test func linesSplitAcrossCallsAreFramedAsStdinIs() async throws {
        let recorder = CoreRecorder()
        #expect(recorder.open() == MMCORE_OK)
        for byte in (Self.getUser + "\r\n  \n" + #"{"jsonrpc":"2.0","method":"getUser","id":2}"#).utf8 {
            #expect(await recorder.send(String(decoding: [byte], as: UTF8.self)) == MMCORE_OK)
        }
        let first = try await recorder.response(id: 1)
        #expect(first["error"]?["data"]?["code"] == "NOT_INITIALIZED", "\(first)")
        // The unterminated last line is still a line when the input ends.
        #expect(await recorder.close() == MMCORE_OK)
        #expect(try await recorder.response(id: 2, timeout: .zero)["error"] != nil)
        #expect(recorder.lines.count == 2)
    }

    @Test func closeAnswersEverythingInFlightAndThenNoCallbackRuns() async throws {
        let recorder = CoreRecorder()
        #expect(recorder.open(maxMessagesInFlight: 8) == MMCORE_OK)
        var input = ""
        for id in 0..<300 { input += #"{"jsonrpc":"2.0","method":"fetchUser","id":\#(id)}"# + "\n" }
        #expect(await recorder.send(input) == MMCORE_OK, "waits for the limit of 8, then returns")
        #expect(await recorder.close() == MMCORE_OK)
        let answered = recorder.lines.count
        let logs = recorder.logs.count
        #expect(answered == 300)
        try await Task.sleep(for: .milliseconds(300))
        #expect(recorder.lines.count == answered && recorder.logs.count == logs, "a callback ran after close returned")
        #expect(!recorder.callbacksOverlapped)
    }

    @Test func severalCoresRunAtOnceEachWithItsOwnOutput() async throws {
        let recorders = (0..<3).map { _ in CoreRecorder() }
        for recorder in recorders { #expect(recorder.open() == MMCORE_OK) }
        #expect(Set(recorders.map(\.handle)).count == 3)
        for (index, recorder) in recorders.enumerated() {
            #expect(await recorder.send(#"{"jsonrpc":"2.0","method":"getInstallation","id":"core-\#(index)"}"# + "\n") == MMCORE_OK)
        }
        for (index, recorder) in recorders.enumerated() {
            _ = try await recorder.response(id: .string("core-\(index)"))
            #expect(recorder.lines.count == 1, "\(recorder.lines)")
        }
        for recorder in recorders { #expect(await recorder.close() == MMCORE_OK) }
    }

    // MARK: Calling back into the core

    @Test func insideACallbackInputWorksAndCloseIsRefused() async throws {
        let statuses = CallbackStatuses()
        let recorder = CoreRecorder { recorder, line in
            guard line.contains(#""id":1"#) else { return }
            statuses.record(close: mmcore_close(recorder.handle))
            statuses.record(input: recorder.sendNow(#"{"jsonrpc":"2.0","method":"getUser","id":"from-callback"}"# + "\n"))
        }
        #expect(recorder.open() == MMCORE_OK)
        #expect(await recorder.send(Self.getUser) == MMCORE_OK)
        _ = try await recorder.response(id: "from-callback")
        #expect(statuses.close == MMCORE_ERROR_IN_CALLBACK)
        #expect(statuses.input == MMCORE_OK)
        #expect(await recorder.close() == MMCORE_OK)
    }

    @Test func logsGoToTheLogCallbackAtTheChosenLevel() async throws {
        let recorder = CoreRecorder()
        #expect(recorder.open(logLevel: MMCORE_LOG_TRACE) == MMCORE_OK)
        #expect(await recorder.send("not json\n") == MMCORE_OK)
        #expect(await recorder.close() == MMCORE_OK)
        let logs = recorder.logs
        #expect(logs.contains { $0.level == MMCORE_LOG_INFO && $0.text.hasPrefix("mmcore: mmcore \(String(cString: mmcore_version())) serving in process") }, "\(logs)")
        #expect(logs.contains { $0.text == "mmcore: stopped" }, "\(logs)")

        let quiet = CoreRecorder()
        #expect(quiet.open(logLevel: MMCORE_LOG_ERROR) == MMCORE_OK)
        #expect(await quiet.close() == MMCORE_OK)
        #expect(quiet.logs.isEmpty, "\(quiet.logs)")
    }

    @Test func theBuildDescribesItself() throws {
        #expect(String(cString: mmcore_version()).split(separator: ".").count == 3)
        let schema = try JSONParser.parse(String(cString: mmcore_schema()))
        #expect(schema["openrpc"] != nil)
        let methods = String(cString: mmcore_method_names()).split(separator: "\n")
        #expect(methods.contains("saveUser") && !methods.contains("rpc.discover"))
    }
}

/// What a callback's own calls into the core returned.
private final class CallbackStatuses: Sendable {
    private let statuses = Mutex<(close: Int32?, input: Int32?)>((nil, nil))
    var close: Int32? { statuses.withLock { $0.close } }
    var input: Int32? { statuses.withLock { $0.input } }
    func record(close status: Int32) { statuses.withLock { $0.close = status } }
    func record(input status: Int32) { statuses.withLock { $0.input = status } }
}
