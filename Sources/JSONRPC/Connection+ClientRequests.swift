import JSON

// MARK: - Messages to the client

/// The connection's own requests and notifications to the client (the opt-in token
/// provider's `requestUserDataJwt`, events): sent through the same writer, answered
/// through the same reader as everything else.
extension Connection {
    /// Sends a notification to the client (for instance an `event`).
    public nonisolated func notify(method: String, params: JSONValue? = nil) {
        var bytes: [UInt8] = []
        JSONRPCNotification(method: method, params: params).write(to: &bytes)
        writer.send(bytes)
    }

    /// Sends a request to the client and waits for its response.
    ///
    /// - Returns: the response's `result`.
    /// - Throws: ``OutgoingRequestError`` when the client answers with an error, does not
    ///   answer within `timeout`, or its input ends first; `CancellationError` when the
    ///   calling task is cancelled.
    public func request(method: String, params: JSONValue? = nil, timeout: Duration) async throws -> JSONValue {
        guard outgoing.isOpen else { throw OutgoingRequestError.connectionClosed }
        let id = outgoing.nextID(prefix: options.requestIDPrefix)
        var bytes: [UInt8] = []
        JSONRPCRequest(id: id, method: method, params: params).write(to: &bytes)

        let timer = Task.detached {
            do { try await Task.sleep(for: timeout) } catch { return }
            await self.failOutgoing(id, with: OutgoingRequestError.timedOut(method: method, after: timeout))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                outgoing.wait(id, continuation)
                inFlight.awaitingClientAnswer(true)
                writer.send(bytes)
            }
        } onCancel: {
            Task { await self.failOutgoing(id, with: CancellationError()) }
        }
    }

    func failOutgoing(_ id: RequestID, with error: any Error) {
        guard let continuation = outgoing.claim(id) else { return }
        inFlight.awaitingClientAnswer(false)
        continuation.resume(throwing: error)
    }

    func deliver(_ response: JSONRPCResponse) {
        guard let id = response.id, let continuation = outgoing.claim(id) else {
            logger.warning("dropped a response to no request of ours (id \(response.id?.description ?? "null"))")
            return
        }
        inFlight.awaitingClientAnswer(false)
        switch response.outcome {
        case .success(let result): continuation.resume(returning: result)
        case .failure(let error): continuation.resume(throwing: OutgoingRequestError.errorResponse(error))
        }
    }
}

/// Why a request we sent to the client produced no result.
public enum OutgoingRequestError: Error, Sendable, Equatable {
    /// The client answered with this error object (a malformed response is described as
    /// an Invalid Request error).
    case errorResponse(JSONRPCError)
    /// No response within the timeout.
    case timedOut(method: String, after: Duration)
    /// The client's input ended (or the connection is shutting down) first.
    case connectionClosed
}
