import HostileHTTPServer
import JSON
import Testing

@testable import MMCoreEngine

/// The real ``AsyncHTTPClientTransport`` (and the client above it) against a loopback
/// server that stalls, trickles, redirects or answers with a captive portal's page.
///
/// Each case is bounded: the call under test has a 0.5 s timeout, and the server holds a
/// stalled answer at most 60 s, so a missing deadline shows as a slow failure, never as a
/// hung suite. What proves the deadline is the error: without it, a stalled exchange can
/// only end by the server closing (a network error) or the body completing (a success).
/// Alone, an answer takes the timeout plus milliseconds; the margin is wide because the
/// whole suite shares a cooperative pool of two threads on a loaded machine, where timers
/// have been seen to resume 10 s late, and it stays far below the 60 s hold.
@Suite struct HostileServerTransportTests {
    static let timeout = Duration.milliseconds(500)
    static let margin = Duration.seconds(25)

    func client(_ server: HostileServer, timeoutSeconds: Double = 0.5) -> MobileAPIClient {
        MobileAPIClient(
            configuration: Configuration(applicationCode: "app-1", backendBaseURL: server.baseURL, requestTimeoutSeconds: timeoutSeconds),
            transport: AsyncHTTPClientTransport())
    }

    func get(_ server: HostileServer, path: String = "/mobile/1/appinstance/reg-1", timeout: Duration = timeout)
        async throws -> HTTPResponse
    {
        try await AsyncHTTPClientTransport().send(
            method: "GET", url: server.baseURL + path, headers: [("Accept", "application/json")], body: nil, timeout: timeout)
    }

    // MARK: - One deadline for the whole exchange

    @Test(arguments: [
        HostileServer.Behaviour.stallAfterHeaders(contentLength: 100),
        .trickle(contentLength: 1000, interval: .milliseconds(100)),
        .chunkedThenSilence,
        .silent,
    ])
    func aBodyThatNeverCompletesTimesOutWithinTheDeadline(behaviour: HostileServer.Behaviour) async throws {
        try await withHostileServer(behaviour) { server in
            let started = ContinuousClock.now
            let error = await caught { try await get(server) }
            let elapsed = ContinuousClock.now - started
            #expect(error as? HTTPTransportError == .timeout, "got \(String(describing: error))")
            #expect(elapsed < Self.timeout + Self.margin, "answered after \(elapsed)")
            #expect(server.requestHeads.count == 1)
        }
    }

    @Test func theClientReportsAStalledBodyAsTimeout() async throws {
        try await withHostileServer(.stallAfterHeaders(contentLength: 100)) { server in
            let started = ContinuousClock.now
            let error = await caughtError { try await client(server).fetchInstallation("reg-1") }
            #expect(error?.code == "TIMEOUT")
            #expect(error?.description == "The Mobile API did not answer within 0.5 seconds.")
            #expect(error?.isTransient == true)
            #expect(ContinuousClock.now - started < Self.timeout + Self.margin)
        }
    }

    @Test func callsAfterAStalledOneGoOn() async throws {
        let answer = HostileServer.Behaviour.respond(
            status: 200, headers: [.init("Content-Type", "application/json")], body: Array(#"{"pushRegId":"reg-1"}"#.utf8))
        try await withHostileServer(.trickle(contentLength: 1000, interval: .milliseconds(100))) { stalling in
            try await withHostileServer(answer) { healthy in
                async let stalled = caught { try await get(stalling) }
                let response = try await get(healthy, timeout: .seconds(60))
                #expect(response.status == 200)
                #expect(await stalled as? HTTPTransportError == .timeout)
                // The same shared client, again, after the timeout.
                #expect(try await get(healthy, timeout: .seconds(60)).status == 200)
            }
        }
    }

    // MARK: - Redirects are never followed

    @Test(arguments: [301, 302, 303, 307, 308])
    func aRedirectIsReturnedNotFollowed(status: Int) async throws {
        let target = HostileServer.Behaviour.respond(
            status: 200, headers: [.init("Content-Type", "application/json")], body: Array(#"{"pushRegId":"stolen"}"#.utf8))
        try await withHostileServer(target) { elsewhere in
            let redirect = HostileServer.Behaviour.respond(
                status: status, headers: [.init("Location", elsewhere.baseURL + "/mobile/1/appinstance/reg-1")], body: [])
            try await withHostileServer(redirect) { server in
                let response = try await get(server)
                #expect(response.status == status)
                #expect(elsewhere.connectionCount == 0, "the redirect was followed")

                let error = await caughtError { try await client(server).fetchInstallation("reg-1") }
                #expect(error?.code == "UNEXPECTED_RESPONSE")
                #expect(error?.httpStatus == status)
                #expect(error?.domain == "com.mobile-messaging")
                #expect(error?.isUnfollowedRedirect == true)
                #expect(elsewhere.connectionCount == 0, "the redirect was followed")
            }
        }
    }

    // MARK: - A captive portal is a network failure in disguise

    @Test func aCaptivePortalPageIsATransientNetworkError() async throws {
        try await withHostileServer(.captivePortal) { server in
            let error = await caughtError { try await client(server).fetchInstallation("reg-1") }
            #expect(error?.code == "NETWORK_ERROR")
            #expect(error?.isTransient == true)
            #expect(error?.httpStatus == nil)
            #expect(
                error?.description
                    == "The Mobile API could not be reached: the answer (HTTP 200, text/html; charset=utf-8, 89 bytes) is not the Mobile API's JSON; a captive portal or a proxy may be in the way.")
        }
    }

    // MARK: - The transport's own size cap

    @Test func aBodyOverTheCapIsRefusedByTheRealTransport() async throws {
        try await withHostileServer(.largeBody(bytes: 2 << 20)) { server in
            let error = await caught { try await get(server, timeout: .seconds(60)) }
            #expect(error as? HTTPTransportError == .responseTooLarge(status: 200, limit: 1 << 20))

            let mapped = await caughtError { try await client(server, timeoutSeconds: 60).fetchInstallation("reg-1") }
            #expect(mapped?.code == "UNEXPECTED_RESPONSE")
            #expect(mapped?.httpStatus == 200)
            #expect(mapped?.description == "The server answered HTTP 200 with a body larger than 1048576 bytes.")
        }
    }

    @Test func aBodyJustUnderTheCapIsRead() async throws {
        try await withHostileServer(.largeBody(bytes: 1 << 20)) { server in
            let response = try await get(server, timeout: .seconds(60))
            #expect(response.body.count == 1 << 20)
        }
    }

    // MARK: - The server is really stopped

    @Test func aStoppedServerRefusesConnections() async throws {
        let server = try HostileServer(.silent)
        await server.stop()
        let error = await caught { try await get(server, timeout: .seconds(5)) }
        guard case .network? = error as? HTTPTransportError else {
            Issue.record("expected a refused connection, got \(String(describing: error))")
            return
        }
    }
}
