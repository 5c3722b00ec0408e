/// Sends one HTTP request: the only thing the core needs from an HTTP stack.
///
/// Kept this small so tests can record requests with a fake and production can use
/// ``AsyncHTTPClientTransport``, and so nothing about the HTTP client is created before
/// the first request (the core is spawned at every app start).
public protocol HTTPTransport: Sendable {
    /// - Parameters:
    ///   - method: `GET`, `POST`, `PATCH`...
    ///   - url: the absolute URL, query included.
    ///   - headers: in order; names as given.
    ///   - body: the request body, `nil` for none.
    ///   - timeout: the bound of the whole exchange.
    /// - Throws: ``HTTPTransportError`` (any other error is taken as a network failure).
    func send(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?, timeout: Duration)
        async throws -> HTTPResponse
}

/// What came back: any status, non-2xx included (mapping those is the client's job).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name`, compared without case.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// Why no usable response arrived.
public enum HTTPTransportError: Error, Sendable, Equatable {
    /// No answer within the timeout.
    case timeout
    /// The server could not be reached or the connection broke; the text says how,
    /// for logs and the error description (it never holds request headers).
    case network(String)
    /// The response body was larger than the transport accepts.
    case responseTooLarge(status: Int, limit: Int)
    /// The URL's host name could not be resolved: the dynamic base URL falls back to the
    /// configured one on it.
    case hostNotFound(String)
}
