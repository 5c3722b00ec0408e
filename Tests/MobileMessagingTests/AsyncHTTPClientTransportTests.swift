import Testing

@testable import MobileMessaging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback TCP socket that listens but never accepts: the kernel completes the
/// handshake, the request is written, and no answer ever comes.
final class SilentListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        #if canImport(Glibc)
            let stream = Int32(SOCK_STREAM.rawValue)
        #else
            let stream = SOCK_STREAM
        #endif
        let descriptor = socket(AF_INET, stream, 0)
        guard descriptor >= 0 else { throw HTTPTransportError.network("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else {
            close(descriptor)
            throw HTTPTransportError.network("bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }
}

/// The production transport against loopback sockets (no outside network needed).
@Suite struct AsyncHTTPClientTransportTests {
    @Test func aRefusedConnectionIsANetworkError() async throws {
        // Bind a port, then close it, so nothing listens there. (AsyncHTTPClient keeps
        // retrying a refused connection until the deadline, then reports the refusal.)
        let port = try SilentListener().port
        let transport = AsyncHTTPClientTransport()
        let error = await caught {
            try await transport.send(
                method: "GET", url: "http://127.0.0.1:\(port)/mobile/1/appinstance/x", headers: [], body: nil, timeout: .seconds(1))
        }
        guard case .network(let detail)? = error as? HTTPTransportError else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(!detail.isEmpty)
    }

    @Test func noAnswerWithinTheTimeoutIsATimeout() async throws {
        let listener = try SilentListener()
        let transport = AsyncHTTPClientTransport()
        let started = ContinuousClock.now
        await #expect(throws: HTTPTransportError.timeout) {
            _ = try await transport.send(
                method: "POST", url: "http://127.0.0.1:\(listener.port)/mobile/1/appinstance",
                headers: [("Content-Type", "application/json")], body: Array("{}".utf8), timeout: .milliseconds(300))
        }
        // The listener never answers: without the timeout this would not return at all.
        // The bound is loose because a loaded CI machine can be seconds late.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func theClientMapsItToTheCoresCodes() async throws {
        let listener = try SilentListener()
        let client = MobileAPIClient(
            configuration: Configuration(
                applicationCode: "app-1", backendBaseURL: "http://127.0.0.1:\(listener.port)", requestTimeoutSeconds: 0.3),
            transport: AsyncHTTPClientTransport())
        let error = await caughtError { try await client.fetchInstallation("reg-1") }
        #expect(error?.code == "TIMEOUT")
        #expect(error?.description == "The Mobile API did not answer within 0.3 seconds.")
    }
}
