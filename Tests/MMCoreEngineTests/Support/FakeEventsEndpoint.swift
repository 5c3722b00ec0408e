import JSON

@testable import MMCoreEngine

/// The custom events endpoint on the fake Mobile API
/// (`POST /mobile/1/appinstance/{id}/user/events/custom?validate=`): records each batch
/// that arrives with the person the installation belonged to at that instant (the
/// server attributes events on arrival), and fails requests while a fault is set.
final class FakeEventsEndpoint: Sendable {
    struct Arrival: Sendable {
        let events: [JSONValue]
        let validate: String?
        let person: String?
        let authorization: String?
        /// Requests the fake had seen before this one (its place among all requests).
        let position: Int
    }

    enum Fault: Sendable {
        case network
        case status(Int, String)
        case retryAfter(Int)
    }

    let arrivals = Locked<[Arrival]>([])
    /// Applied to event requests while set.
    let fault = Locked<Fault?>(nil)
    /// Applied to depersonalize requests while set.
    let depersonalizeFault = Locked<Fault?>(nil)

    static func isEventRequest(_ request: RecordedRequest) -> Bool {
        request.method == "POST" && request.path.hasSuffix("/user/events/custom")
    }

    @discardableResult
    static func install(on api: FakeMobileAPI) -> FakeEventsEndpoint {
        let endpoint = FakeEventsEndpoint()
        api.setHook { [endpoint, api] request in
            if request.path.hasSuffix("/depersonalize"), let fault = endpoint.depersonalizeFault.current {
                return try Self.answer(fault)
            }
            guard Self.isEventRequest(request) else { return nil }
            if let fault = endpoint.fault.current { return try Self.answer(fault) }
            let id = request.path.split(separator: "/")[3]
            let person = api.store.current.users[String(id)]?["externalUserId"]?.stringValue
            let parameters = (request.query ?? "").split(separator: "&")
            let validate = parameters.first(where: { $0.hasPrefix("validate=") }).map { String($0.dropFirst("validate=".count)) }
            endpoint.arrivals.withLock {
                $0.append(
                    Arrival(
                        events: request.body?["events"]?.arrayValue ?? [], validate: validate, person: person,
                        authorization: request.authorization, position: api.requestCount - 1))
            }
            return HTTPResponse(status: 200)
        }
        return endpoint
    }

    static func answer(_ fault: Fault) throws -> HTTPResponse {
        switch fault {
        case .network: throw HTTPTransportError.network("connection refused")
        case .status(let status, let messageId): return FakeMobileAPI.error(status, messageId, "Refused by the test")
        case .retryAfter(let seconds):
            return FaultSwitch.withRetryAfter(FakeMobileAPI.error(503, "SERVICE_UNAVAILABLE", "Try later"), seconds)
        }
    }

    func set(_ fault: Fault?) { self.fault.withLock { $0 = fault } }

    var all: [Arrival] { arrivals.current }

    /// Every event that arrived, in arrival order.
    var events: [JSONValue] { all.flatMap(\.events) }

    var definitionIds: [String] { events.compactMap { $0["definitionId"]?.stringValue } }

    /// Waits (polling) until `count` events have arrived.
    @discardableResult
    func wait(forEvents count: Int, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if events.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }
}

extension SessionHarness {
    var eventsPath: String { directory.stateDirectory + "/events.json" }

    var eventsFile: JSONValue? {
        readFile(eventsPath).flatMap { try? JSONParser.parse($0) }
    }

    /// The definitionIds held in `events.json`.
    var heldDefinitionIds: [String] {
        eventsFile?["events"]?.arrayValue?.compactMap { $0["definitionId"]?.stringValue } ?? []
    }
}

extension Session {
    /// A quiet period short enough for tests, or long enough that only the core's own
    /// reasons (a person change, a restart) send events.
    func useEventTiming(_ quiet: Duration) {
        setCustomEventTiming(quietPeriod: quiet, maximumWait: quiet * 5)
    }
}

/// Waits (polling) until `condition` holds; `false` if it never did within `timeout`.
@discardableResult
func eventually(timeout: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return false
}
