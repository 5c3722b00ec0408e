import HostileHTTPServer
import Testing

@testable import MMCoreEngine

/// The production transport against loopback sockets (no outside network needed).
@Suite struct AsyncHTTPClientTransportTests {
    @Test func aRefusedConnectionIsANetworkError() async throws {
        // Bind a port, then stop listening, so nothing listens there.
        let stopped = try HostileServer(.silent)
        await stopped.stop()
        let port = stopped.port
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
        // Reads the request and never answers.
        let listener = try HostileServer(.silent)
        defer { listener.shutDown() }
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
        let listener = try HostileServer(.silent)
        defer { listener.shutDown() }
        let client = MobileAPIClient(
            configuration: Configuration(
                applicationCode: "app-1", backendBaseURL: "http://127.0.0.1:\(listener.port)", requestTimeoutSeconds: 0.3),
            transport: AsyncHTTPClientTransport())
        let error = await caughtError { try await client.fetchInstallation("reg-1") }
        #expect(error?.code == "TIMEOUT")
        #expect(error?.description == "The Mobile API did not answer within 0.3 seconds.")
    }
}
