import JSON
import Testing
import UserDataJWT

@testable import MMCoreEngine

/// A session wired to the fake Mobile API, a temporary state directory, a settable
/// clock and an event recorder.
struct SessionHarness {
    let directory = TemporaryDirectory()
    let api = FakeMobileAPI()
    let events = EventRecorder()
    let clock = TestClock()
    let monotonic = TestMonotonicClock()

    static let fastRetries = RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100))
    /// No background retry within a test: without jitter every delay is the full minute.
    static let slowRetries = RetryPolicy(initialDelay: .seconds(60), maximumDelay: .seconds(60), jitter: false)

    func makeSession(retryPolicy: RetryPolicy = fastRetries, tokenProvider: (any TokenProvider)? = nil) -> Session {
        Session(
            stateDirectory: directory.stateDirectory, transport: api, events: events, logger: quietLogger,
            clock: clock.wallClock, monotonicClock: monotonic.clock, tokenProvider: tokenProvider, retryPolicy: retryPolicy)
    }

    func configuration(_ extra: JSONObject = [:], applicationCode: String = "app-1") -> JSONValue {
        var object: JSONObject = [
            "applicationCode": .string(applicationCode), "backendBaseURL": .string(FakeMobileAPI.baseURL),
            "requestTimeoutSeconds": 10,
        ]
        for member in extra { object[member.key] = member.value }
        return .object(object)
    }

    /// An initialized session whose registration has finished.
    func registeredSession(
        _ extra: JSONObject = [:], retryPolicy: RetryPolicy = fastRetries, tokenProvider: (any TokenProvider)? = nil
    ) async throws -> Session {
        let session = makeSession(retryPolicy: retryPolicy, tokenProvider: tokenProvider)
        try await session.initialize(configuration(extra))
        let registered = await events.wait(for: .registrationUpdated)
        try #require(registered != nil, "registration did not finish")
        return session
    }

    var statePath: String { directory.stateDirectory + "/state.json" }

    var stateFile: JSONValue? {
        readFile(statePath).flatMap { try? JSONParser.parse($0) }
    }

    func cleanUp(_ sessions: Session...) async {
        for session in sessions { await session.shutdown() }
        directory.remove()
    }
}
