import AsyncHTTPClient
import NIOCore

/// ``HTTPTransport`` over AsyncHTTPClient, the production transport.
///
/// Uses one process-wide client unless given one. It is created on its first use, i.e. on
/// the first request, never while `init` is being answered, and lives as long as the
/// process. Unlike `HTTPClient.shared` it does not retry a refused connection until the
/// deadline: a server that is down is reported as `NETWORK_ERROR` at once, so the call
/// can be kept for a later retry instead of holding the caller for the whole timeout.
public struct AsyncHTTPClientTransport: HTTPTransport {
    /// Bodies larger than this are refused rather than buffered (1 MiB by default; the
    /// Mobile API's answers are a few KiB).
    public let maxResponseBytes: Int
    private let client: HTTPClient?

    public init(maxResponseBytes: Int = 1 << 20, client: HTTPClient? = nil) {
        self.maxResponseBytes = maxResponseBytes
        self.client = client
    }

    public func send(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?, timeout: Duration)
        async throws -> HTTPResponse
    {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = .bytes(body) }

        let client = self.client ?? sharedClient
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await client.execute(request, deadline: deadline)
            let status = Int(response.status.code)
            let responseHeaders = response.headers.map { (name: $0.name, value: $0.value) }
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: maxResponseBytes)
            } catch is NIOTooManyBytesError {
                throw HTTPTransportError.responseTooLarge(status: status, limit: maxResponseBytes)
            }
            return HTTPResponse(status: status, headers: responseHeaders, body: Array(buffer.readableBytesView))
        } catch let error as HTTPTransportError {
            throw error
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
                throw HTTPTransportError.timeout
            default:
                throw HTTPTransportError.network(String(describing: error))
            }
        } catch {
            // NIO's connection errors (refused, reset, DNS) describe themselves well.
            throw HTTPTransportError.network(String(describing: error))
        }
    }
}

/// Created on first use (a global's initializer runs lazily and once).
private let sharedClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(10)
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

extension TimeAmount {
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = nanoseconds.overflow ? .hours(24) : .nanoseconds(nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
