import JSON
import Logging

/// A JSON-RPC 2.0 peer over a pair of file descriptors, or an in-process transport (see
/// `Transport.swift`), one message per line.
///
/// One reader thread frames the input; this actor decodes each line once, answers what
/// needs no handler (parse errors, invalid requests, unknown methods, invalid params) at
/// once, and admits every request in the order the lines were read: the method's
/// admission step (``MethodRegistry/Admit``) runs to its end before the next message is
/// looked at, so a method that takes a place in a serial lane there takes it in call
/// order. What admission leaves to do runs in a task of its own, so requests are handled
/// concurrently and answered in completion order. Every request gets exactly one
/// response: the table of running requests is the single place a response is claimed.
/// Notifications get none. A batch is answered with one array once all its requests are
/// done. All output goes through one ``MessageWriter``.
///
/// The connection also sends requests and notifications of its own to the client.
public actor Connection {
    public struct Options: Sendable {
        /// Longest accepted line, in bytes, not counting its line ending.
        public var maxLineBytes: Int
        /// Deepest accepted nesting of arrays and objects in a message.
        public var maxNestingDepth: Int
        /// How long requests still running when the input ends may take before they are
        /// cancelled and answered with ``JSONRPCError/cancelledByShutdown``.
        public var shutdownGracePeriod: Duration
        /// Prefix of the ids of our own requests to the client (`"rpc-1"`, `"rpc-2"`, ...).
        public var requestIDPrefix: String
        /// Input backpressure: how many messages may be in flight (lines read but not yet
        /// handled, plus handlers running) before the reader stops reading until some
        /// finish. Bounds memory under a flood; every request is still answered.
        public var maxMessagesInFlight: Int

        public init(
            maxLineBytes: Int = LineFramer.defaultMaxLineBytes,
            maxNestingDepth: Int = JSONParser.defaultMaxDepth,
            shutdownGracePeriod: Duration = .seconds(5),
            requestIDPrefix: String = "rpc-",
            maxMessagesInFlight: Int = 512
        ) {
            self.maxLineBytes = maxLineBytes
            self.maxNestingDepth = maxNestingDepth
            self.shutdownGracePeriod = shutdownGracePeriod
            self.requestIDPrefix = requestIDPrefix
            self.maxMessagesInFlight = maxMessagesInFlight
        }
    }

    private let reader: any LineInput
    let inFlight: InFlightLimit
    let writer: any MessageOutput
    let options: Options
    let logger: Logger

    private var registry = MethodRegistry()
    private var isServing = false
    private var replies = ReplyTable()
    private var drainWaiter: CheckedContinuation<Void, Never>?
    /// Our own requests to the client awaiting its answer.
    var outgoing = OutgoingRequests()

    /// - Parameters:
    ///   - input: read until end of input; the connection does not close it.
    ///   - output: written by this connection alone; see ``StandardStreams/takeStandardOutput()``.
    public init(input: Int32, output: Int32, options: Options = Options(), logger: Logger) {
        let inFlight = InFlightLimit(limit: options.maxMessagesInFlight)
        let reader = LineReader(fileDescriptor: input, maxLineBytes: options.maxLineBytes, limit: inFlight, batched: true)
        self.reader = reader
        self.inFlight = inFlight
        self.writer = MessageWriter(fileDescriptor: output) { [logger] in
            logger.info("the client closed its end of the output; stopping")
            reader.stop()
        }
        self.options = options
        self.logger = logger
    }

    /// The in-process transport: the host hands input bytes to `input` (see
    /// ``LineFeed``) and `output` delivers each message (see ``CallbackOutput``).
    ///
    /// - Parameter input: made with the same `options`; its end (``LineFeed/finish()``)
    ///   is the end of input, as closing stdin is.
    public init(input: LineFeed, output: any MessageOutput, options: Options = Options(), logger: Logger) {
        self.reader = input
        self.inFlight = input.inFlight
        self.writer = output
        self.options = options
        self.logger = logger
    }

    // MARK: Serving

    /// Serves `registry` until the input ends or ``shutdown()`` is called, then lets
    /// running requests finish within the grace period, answers the rest with an error,
    /// flushes the output and returns.
    public func serve(_ registry: MethodRegistry) async {
        precondition(!isServing, "a connection serves once")
        isServing = true
        self.registry = registry
        reader.start()
        reading: for await batch in reader.batches {
            // The answers to one read's lines leave together (see MessageWriter.hold()).
            writer.hold()
            defer {
                writer.releaseHold()
                // The lines' slots, given back together: one wake-up of a reader waiting at
                // the limit per read, not per line, so a flood keeps its reads whole. Their
                // handlers hold slots of their own.
                inFlight.release(batch.count)
            }
            for event in batch {
                // After shutdown(), lines already read but not handled are dropped like unread ones.
                if reader.isStopped { break reading }
                await handle(event)
            }
        }

        for (id, continuation) in outgoing.close() {
            logger.debug("request \(id) to the client is left unanswered: the input ended")
            continuation.resume(throwing: OutgoingRequestError.connectionClosed)
            inFlight.awaitingClientAnswer(false)
        }
        await finishRunning()
        await writer.flush()
    }

    /// Stops reading input now (for SIGTERM); ``serve(_:)`` then winds down and returns.
    /// Safe to call from any thread, any number of times.
    public nonisolated func shutdown() {
        reader.stop()
    }

    private func handle(_ event: LineEvent) async {
        switch event {
        case .lineTooLong:
            logger.warning("skipped a line longer than \(options.maxLineBytes) bytes")
            send(JSONRPCResponse(id: nil, error: .lineTooLong(maxLineBytes: options.maxLineBytes)))
        case .line(let bytes):
            let value: JSONValue
            do {
                value = try JSONParser.parse(bytes, maxDepth: options.maxNestingDepth)
            } catch {
                let dataCode = error.kind == .tooDeep ? "NESTING_TOO_DEEP" : "PARSE_ERROR"
                send(JSONRPCResponse(id: nil, error: .parseError(error.description, dataCode: dataCode)))
                return
            }
            if case .array(let elements) = value {
                await handleBatch(elements)
            } else {
                await handleSingle(value)
            }
        }
    }

    private func handleSingle(_ value: JSONValue) async {
        if case .answer(let response) = await accept(value, reply: { .single($0) }) {
            send(response)
        }
    }

    private func handleBatch(_ elements: [JSONValue]) async {
        guard !elements.isEmpty else {
            send(JSONRPCResponse(id: nil, error: .invalidRequest("a batch must not be empty")))
            return
        }
        let batchKey = replies.openBatch()
        for element in elements {
            let slot = replies.nextSlot(in: batchKey)
            switch await accept(element, reply: { .batch(batchKey, slot: slot, $0) }) {
            case .answer(let response):
                replies.answer(response.serializedBytes, inBatch: batchKey)
            case .started:
                replies.started(inBatch: batchKey, slot: slot)
            case .nothing:
                break
            }
        }
        if let bytes = replies.closeBatch(batchKey) { writer.send(bytes) }
    }

    private enum Acceptance {
        /// A notification, or a response from the client: nothing to answer.
        case nothing
        /// Answered at once (invalid request, unknown method, invalid params).
        case answer(JSONRPCResponse)
        /// A handler runs and will answer through `reply`.
        case started
    }

    /// Decodes one message and admits it: starts what is left of its work, or says what
    /// answers it at once.
    private func accept(_ value: JSONValue, reply: (RequestID?) -> ReplyTable.Reply) async -> Acceptance {
        switch JSONRPCMessage(decoding: value) {
        case .invalid(let id, let error):
            return .answer(JSONRPCResponse(id: id, error: error))
        case .response(let response):
            deliver(response)
            return .nothing
        case .notification(let notification):
            switch registry.resolve(method: notification.method, params: notification.params) {
            case .failure(let error):
                logger.debug("ignored notification \(notification.method): \(error.message)")
            case .success(let (admit, parameters)):
                if case .success(.running(let work)) = await admitting(admit, parameters) {
                    start(work, parameters.method, reply: .none)
                }
            }
            return .nothing
        case .request(let request):
            switch registry.resolve(method: request.method, params: request.params) {
            case .failure(let error):
                return .answer(JSONRPCResponse(id: request.id, error: error))
            case .success(let (admit, parameters)):
                switch await admitting(admit, parameters) {
                case .success(.answered(let result)):
                    return .answer(JSONRPCResponse(id: request.id, outcome: .success(result)))
                case .success(.running(let work)):
                    start(work, parameters.method, reply: reply(request.id))
                    return .started
                case .failure(let error):
                    return .answer(JSONRPCResponse(id: request.id, outcome: .failure(error)))
                }
            }
        }
    }

    // MARK: Running handlers

    /// Runs a method's admission step; a refusal there is its answer.
    private func admitting(_ admit: MethodRegistry.Admit, _ parameters: Parameters) async -> Result<Admission, JSONRPCError> {
        do {
            return .success(try await admit(parameters))
        } catch {
            return .failure(Self.jsonRPCError(for: error, method: parameters.method, logger: logger))
        }
    }

    private func start(_ work: @escaping @Sendable () async throws -> JSONValue, _ method: String, reply: ReplyTable.Reply) {
        let key = replies.newKey()
        let id = reply.id
        let logger = logger
        let task = Task.detached {
            let outcome = await Self.perform(work, method: method, logger: logger)
            // Serialized here, off the actor, so big results do not hold up other requests.
            let bytes = id.map { JSONRPCResponse(id: $0, outcome: outcome).serializedBytes }
            await self.complete(key, bytes)
        }
        replies.start(key, reply: reply, task: task)
        inFlight.take(1)
    }

    private static func perform(
        _ work: @Sendable () async throws -> JSONValue, method: String, logger: Logger
    ) async -> Result<JSONValue, JSONRPCError> {
        do {
            return .success(try await work())
        } catch {
            return .failure(jsonRPCError(for: error, method: method, logger: logger))
        }
    }

    private static func jsonRPCError(for error: any Error, method: String, logger: Logger) -> JSONRPCError {
        switch error {
        case let error as any JSONRPCErrorConvertible:
            return error.jsonRPCError
        case is CancellationError:
            return .cancelledByShutdown
        default:
            // The type only: an error's text may hold what must not be logged.
            logger.error("\(method) failed with an error of type \(String(reflecting: type(of: error)))")
            return .internalError
        }
    }

    /// Claims the response of the running request `key`; a request already answered
    /// (cancelled at shutdown) is not answered again.
    private func complete(_ key: UInt64, _ response: [UInt8]?) {
        guard case .some(let output) = replies.complete(key, response: response) else { return }
        inFlight.release(1)
        if let output { writer.send(output) }
        if replies.runningCount == 0, let waiter = drainWaiter {
            drainWaiter = nil
            waiter.resume()
        }
    }

    private func finishRunning() async {
        guard replies.runningCount > 0 else { return }
        logger.info("input ended; waiting up to \(options.shutdownGracePeriod) for \(replies.runningCount) running requests")
        let gracePeriod = options.shutdownGracePeriod
        let timer = Task.detached {
            do { try await Task.sleep(for: gracePeriod) } catch { return }
            await self.cancelRunning()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            drainWaiter = continuation
        }
        timer.cancel()
    }

    /// The grace period is over: cancel what still runs and answer it now.
    private func cancelRunning() {
        let (tasks, output) = replies.claimAll { JSONRPCResponse(id: $0, error: .cancelledByShutdown).serializedBytes }
        inFlight.release(tasks.count)
        if !tasks.isEmpty {
            logger.warning("cancelling \(tasks.count) requests still running after the grace period")
        }
        for task in tasks { task.cancel() }
        for bytes in output { writer.send(bytes) }
        if let waiter = drainWaiter {
            drainWaiter = nil
            waiter.resume()
        }
    }

    // MARK: Output

    private func send(_ response: JSONRPCResponse) {
        writer.send { response.write(to: &$0) }
    }
}
