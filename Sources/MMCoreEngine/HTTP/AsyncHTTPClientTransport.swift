import AsyncHTTPClient
import NIOCore

/// ``HTTPTransport`` over AsyncHTTPClient, the production transport.
///
/// Uses one process-wide client unless given one. It is created on its first use, i.e. on
/// the first request, never while `init` is being answered, and lives as long as the
/// process. Unlike `HTTPClient.shared` it does not retry a refused connection until the
/// deadline: a server that is down is reported as `NETWORK_ERROR` at once, so the call
/// can be kept for a later retry instead of holding the caller for the whole timeout. It
/// never follows a redirect: a 3xx comes back as the answer (`docs/contract/mobile-api.md`, "Talking to the Mobile API").
public struct AsyncHTTPClientTransport: HTTPTransport {
    /// Bodies larger than this are refused rather than buffered (1 MiB by default; the
    /// Mobile API's answers are a few KiB).
    public let maxResponseBytes: Int
    private let client: HTTPClient?

    /// - Parameter client: a client of the caller's; its own configuration then applies,
    ///   redirects included (the shared one here never follows them).
    public init(maxResponseBytes: Int = 1 << 20, client: HTTPClient? = nil) {
        self.maxResponseBytes = maxResponseBytes
        self.client = client
    }

    /// One deadline bounds the whole exchange: connecting, the response head and the
    /// body. AsyncHTTPClient's own deadline ends once the head has arrived, and a
    /// server that then stalls or trickles its body would hold the call until it closed
    /// the connection; so a timer races the exchange, and the loser is cancelled (which
    /// closes the connection).
    public func send(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?, timeout: Duration)
        async throws -> HTTPResponse
    {
        let request = {
            var request = HTTPClientRequest(url: url)
            request.method = .init(rawValue: method)
            for header in headers { request.headers.add(name: header.name, value: header.value) }
            if let body { request.body = .bytes(body) }
            return request
        }()

        let client = self.client ?? sharedClient
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let limit = maxResponseBytes
        do {
            return try await withThrowingTaskGroup(of: HTTPResponse?.self) { group in
                group.addTask { try await Self.exchange(request, client: client, deadline: deadline, limit: limit) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                // `nil` is the timer: the deadline passed before the body was complete.
                guard let first = try await group.next(), let response = first else { throw HTTPTransportError.timeout }
                return response
            }
        } catch let error as HTTPTransportError {
            throw error
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
                throw HTTPTransportError.timeout
            default:
                // Never the full description: some cases carry the request's header
                // values (`invalidHeaderFieldValues`), which may hold the token.
                throw HTTPTransportError.network(error.shortDescription)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if let host = Self.unresolvedHost(error) { throw HTTPTransportError.hostNotFound(host) }
            // NIO's connection errors (refused, reset) describe themselves well.
            throw HTTPTransportError.network(String(describing: error))
        }
    }

    /// The host of a connection that failed because its name did not resolve: NIO's
    /// `NIOConnectionError` with a DNS error and no connection attempt, or
    /// `SocketAddressError.unknown`. Read by reflection so the core does not link NIOPosix
    /// for one error type; only failed requests pay for it.
    static func unresolvedHost(_ error: any Error) -> String? {
        if case SocketAddressError.unknown(let host, _) = error { return host }
        guard String(describing: type(of: error)) == "NIOConnectionError" else { return nil }
        var host: String?
        var dnsFailed = false
        var attempted = false
        for child in Mirror(reflecting: error).children {
            switch child.label {
            case "host": host = child.value as? String
            case "dnsAError", "dnsAAAAError": if case .some(.some) = child.value as? (any Error)? { dnsFailed = true }
            case "connectionErrors": attempted = !((child.value as? [Any])?.isEmpty ?? true)
            default: break
            }
        }
        return dnsFailed && !attempted ? host : nil
    }

    private static func exchange(_ request: HTTPClientRequest, client: HTTPClient, deadline: NIODeadline, limit: Int)
        async throws -> HTTPResponse
    {
        let response = try await client.execute(request, deadline: deadline)
        let status = Int(response.status.code)
        let headers = response.headers.map { (name: $0.name, value: $0.value) }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw HTTPTransportError.responseTooLarge(status: status, limit: limit)
        }
        return HTTPResponse(status: status, headers: headers, body: Array(buffer.readableBytesView))
    }
}

/// Created on first use (a global's initializer runs lazily and once).
private let sharedClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(10)
    // The Mobile API never redirects (a data-centre move is the New-Base-URL header), and
    // a followed redirect would send a person's data and ids to a host the app did not
    // configure.
    configuration.redirectConfiguration = .disallow
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

extension TimeAmount {
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = nanoseconds.overflow ? .hours(24) : .nanoseconds(nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
