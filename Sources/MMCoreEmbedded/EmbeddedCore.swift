import CoreService
import Dispatch
import JSONRPC
import Logging
import MMCoreEngine

/// One core in process: the same engine as `mmcore` (a ``Connection`` serving the
/// ``CoreService`` registry on a ``Session``), with a ``LineFeed`` for stdin and a
/// ``CallbackOutput`` for stdout.
final class EmbeddedCore: Sendable {
    struct Settings: Sendable {
        var stateDirectory: String
        var logLevel: Logger.Level
        var maxLineBytes: Int
        var maxMessagesInFlight: Int
    }

    private let feed: LineFeed
    private let callbacks: HostCallbacks
    /// Signalled once serving has ended and the session has shut down.
    private let stopped = DispatchSemaphore(value: 0)

    init(settings: Settings, callbacks: HostCallbacks) {
        self.callbacks = callbacks
        let options = Connection.Options(
            maxLineBytes: settings.maxLineBytes, requestIDPrefix: "mmcore-",
            maxMessagesInFlight: settings.maxMessagesInFlight)
        feed = LineFeed(options: options)
        func makeLogger(_ label: String) -> Logger {
            Logger(label: label) { label in
                HostLogHandler(label: label, callbacks: callbacks, logLevel: settings.logLevel)
            }
        }
        let logger = makeLogger("mmcore")
        let output = CallbackOutput(queue: callbacks.queue) { message in callbacks.deliverOutput(message) }
        let connection = Connection(input: feed, output: output, options: options, logger: logger)
        let session = CoreService.session(
            stateDirectory: settings.stateDirectory, connection: connection, logger: makeLogger("mobile-messaging"))
        let registry = CoreService.registry(session: session)
        let stopped = stopped
        Task.detached {
            logger.info("mmcore \(CoreVersion.current) serving in process")
            await connection.serve(registry)
            await session.shutdown()
            logger.info("stopped")
            stopped.signal()
        }
    }

    /// `false` once the input has ended (the core is closing).
    func input(_ bytes: UnsafeRawBufferPointer) -> Bool {
        feed.feed(bytes)
    }

    /// Ends the input and waits, on the calling thread, for the core to wind down and for
    /// every callback to return. Never on a callback's queue, nor on a thread of the
    /// Swift concurrency pool (the C interface is called from the host's threads).
    func close() {
        feed.finish()
        stopped.wait()
        callbacks.close()
    }
}
