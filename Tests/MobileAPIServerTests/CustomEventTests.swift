import Foundation
import JSON
import Testing

@testable import MobileAPIServer

/// Custom events: definitions through the admin API, the Mobile API endpoint in both
/// validate modes, every property type, attribution to the person, fault injection.
@Suite("Custom events")
struct CustomEventTests {
    static let purchase: JSONValue = [
        "definitionId": "purchase", "name": "Purchase",
        "properties": [
            ["name": "item", "type": "string"], ["name": "price", "type": "number"],
            ["name": "gift", "type": "boolean"], ["name": "deliveredOn", "type": "date"],
            ["name": "lines", "type": "list"],
        ],
    ]
    static let date = "2026-02-26T09:41:57Z"

    /// An application with the purchase definition and one registered installation.
    static func setUp(_ client: Client, authorization: UserDataAuthorization = .allowAll) async throws -> (String, String) {
        let code = try await client.createApplication(authorization: authorization)
        let created = try await client.admin(.post, "/admin/applications/\(code)/event-definitions", json: purchase)
        #expect(created.status == 201, "\(created.text)")
        return (code, try await client.register(code))
    }

    static func event(_ definitionId: String = "purchase", _ properties: JSONObject = [:]) -> JSONValue {
        ["definitionId": .string(definitionId), "date": .string(date), "properties": .object(properties)]
    }

    static func submit(
        _ client: Client, _ code: String, _ pushRegId: String, _ events: [JSONValue], validate: Bool
    ) async throws -> Reply {
        try await client.send(
            .post, "/mobile/1/appinstance/\(pushRegId)/user/events/custom?validate=\(validate)", auth: "App \(code)",
            json: ["events": .array(events)])
    }

    static func stored(_ client: Client, _ code: String, query: String = "") async throws -> [JSONValue] {
        try await client.admin(.get, "/admin/applications/\(code)/events\(query)").body.arrayValue ?? []
    }

    // MARK: Definitions

    @Test func definitionsAreCreatedListedAndDeleted() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let path = "/admin/applications/\(code)/event-definitions"
            let created = try await client.admin(.post, path, json: Self.purchase)
            #expect(created.status == 201)
            #expect(created.body["definitionId"] == "purchase")
            #expect(created.body["name"] == "Purchase")
            #expect(created.body["properties"] == Self.purchase["properties"])
            let again = try await client.admin(.post, path, json: Self.purchase)
            #expect(again.status == 409)
            #expect(again.messageId == "EVENT_DEFINITION_EXISTS")
            let bare = try await client.admin(.post, path, json: ["definitionId": "opened"])
            #expect(bare.body["name"] == "opened")
            #expect(bare.body["properties"] == [])
            #expect(try await client.admin(.get, path).body.arrayValue?.compactMap { $0["definitionId"]?.stringValue } == ["purchase", "opened"])

            #expect(try await client.admin(.delete, "\(path)/purchase").status == 200)
            #expect(try await client.admin(.get, path).body.arrayValue?.count == 1)
            let missing = try await client.admin(.delete, "\(path)/purchase")
            #expect(missing.status == 404)
            #expect(missing.messageId == "EVENT_DEFINITION_NOT_FOUND")
            let noApplication = try await client.admin(.get, "/admin/applications/nope/event-definitions")
            #expect(noApplication.messageId == "APPLICATION_NOT_FOUND")
        }
    }

    static let invalidDefinitions: [JSONValue] = [
        ["name": "x"],
        ["definitionId": ""],
        ["definitionId": "has space"],
        ["definitionId": "a", "properties": [["name": "p", "type": "money"]]],
        ["definitionId": "a", "properties": [["name": "p"]]],
        ["definitionId": "a", "properties": [["name": "p", "type": "string"], ["name": "p", "type": "number"]]],
        ["definitionId": "a", "properties": ["p"]],
        ["definitionId": "a", "colour": "red"],
    ]

    @Test(arguments: invalidDefinitions)
    func invalidDefinitionsAreRefused(_ body: JSONValue) async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let reply = try await client.admin(.post, "/admin/applications/\(code)/event-definitions", json: body)
            #expect(reply.status == 400)
            #expect(reply.messageId == "REQUEST_FORMAT_INVALID")
            #expect(try await client.admin(.get, "/admin/applications/\(code)/event-definitions").body == [])
        }
    }

    // MARK: validate=true

    static let validValues: [(String, JSONValue)] = [
        ("item", "shoes"),
        ("price", 12.5), ("price", -3), ("gift", true), ("gift", false),
        ("deliveredOn", "2026-02-28"), ("deliveredOn", "2024-02-29"), ("deliveredOn", "2026-02-26T09:41:57Z"),
        ("deliveredOn", "2026-02-26T09:41:57.123+01:00"), ("deliveredOn", "2026-02-26T09:41:57-0530"),
        ("lines", [["sku": "A-1", "count": 2, "gift": false]]), ("lines", []),
    ]

    /// One accepted value per type (dates in both forms), each stored as sent.
    @Test(arguments: validValues)
    func validEventsAreStored(_ property: String, _ value: JSONValue) async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            let reply = try await Self.submit(client, code, pushRegId, [Self.event("purchase", [property: value])], validate: true)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.body == [:])
            let events = try await Self.stored(client, code)
            #expect(events.count == 1)
            #expect(events.first?["valid"] == true)
            #expect(events.first?["properties"]?[property] == value)
            #expect(events.first?["date"] == .string(Self.date))
            #expect(events.first?["pushRegId"] == .string(pushRegId))
        }
    }

    static let misfits: [(String, JSONObject?, String)] = [
        ("signup", nil, "EVENT_DEFINITION_NOT_FOUND"),
        ("purchase", ["colour": "red"], "EVENT_PROPERTY_NOT_DEFINED"),
        ("purchase", ["item": 42], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["item": .string(String(repeating: "x", count: 4097))], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["price": "12.5"], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["gift": "true"], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["gift": 1], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["deliveredOn": "2026-02-30"], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["deliveredOn": "yesterday"], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["deliveredOn": "2026-02-26T25:00:00Z"], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["deliveredOn": "2026-02-26T10:00:00"], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["deliveredOn": 1_767_000_000], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["lines": [1, 2]], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["lines": ["sku": "A"]], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["lines": [["nested": ["a": 1]]]], "EVENT_PROPERTY_INVALID"),
        ("purchase", ["item": nil], "EVENT_PROPERTY_INVALID"),
    ]

    /// Each misfit refuses the whole request, with its own code, and stores nothing (the
    /// valid event before it included).
    @Test(arguments: misfits)
    func validationRefusesAndStoresNothing(_ definitionId: String, _ properties: JSONObject?, _ messageId: String) async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            let bad = Self.event(definitionId, properties ?? [:])
            let reply = try await Self.submit(client, code, pushRegId, [Self.event(), bad], validate: true)
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.messageId == messageId, "\(reply.text)")
            #expect(try await Self.stored(client, code).isEmpty)
        }
    }

    // MARK: validate=false

    @Test func withoutValidationInvalidEventsAreKeptAside() async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            let reply = try await Self.submit(
                client, code, pushRegId,
                [Self.event("purchase", ["price": 3]), Self.event("signup"), Self.event("purchase", ["gift": "yes"])],
                validate: false)
            #expect(reply.status == 200, "\(reply.text)")
            let events = try await Self.stored(client, code)
            #expect(events.map { $0["valid"] } == [true, false, false])
            #expect(events[0]["invalidReason"] == nil)
            #expect(events[1]["invalidReason"]?.stringValue?.contains("signup") == true)
            #expect(events[2]["invalidReason"]?.stringValue?.contains("gift") == true)
            #expect(try await Self.stored(client, code, query: "?valid=false").count == 2)
            #expect(try await Self.stored(client, code, query: "?valid=true").count == 1)
            // Without the parameter, nothing is validated either.
            let plain = try await client.send(
                .post, "/mobile/1/appinstance/\(pushRegId)/user/events/custom", auth: "App \(code)",
                json: ["events": [Self.event("signup")]])
            #expect(plain.status == 200)
            #expect(try await Self.stored(client, code).count == 4)
        }
    }

    /// A body that is not events at all is refused in both modes, and nothing is stored.
    @Test(arguments: [true, false])
    func malformedBodiesAreRefused(_ validate: Bool) async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            let path = "/mobile/1/appinstance/\(pushRegId)/user/events/custom?validate=\(validate)"
            let ok = Self.event()
            let bodies: [String] = [
                "not json", "[]", "{}", #"{"events": {}}"#, #"{"events": [1]}"#,
                #"{"events": [{"date": "\#(Self.date)"}]}"#,
                #"{"events": [{"definitionId": 7, "date": "\#(Self.date)"}]}"#,
                #"{"events": [{"definitionId": "purchase"}]}"#,
                #"{"events": [{"definitionId": "purchase", "date": "26.02.2026"}]}"#,
                #"{"events": [{"definitionId": "purchase", "date": "2026-02-26"}]}"#,
                #"{"events": [{"definitionId": "purchase", "date": "\#(Self.date)", "properties": []}]}"#,
                #"{"events": [{"definitionId": "purchase", "date": "\#(Self.date)", "eventDate": "x"}]}"#,
                #"{"events": [\#(ok.serialized)], "extra": 1}"#,
            ]
            for body in bodies {
                let reply = try await client.send(.post, path, auth: "App \(code)", raw: body)
                #expect(reply.status == 400, "\(body): \(reply.text)")
                #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(body)")
            }
            #expect(try await Self.stored(client, code).isEmpty)
            let flag = try await client.send(
                .post, "/mobile/1/appinstance/\(pushRegId)/user/events/custom?validate=yes", auth: "App \(code)",
                json: ["events": [ok]])
            #expect(flag.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    // MARK: Who may send

    @Test(arguments: UserDataAuthorization.allCases)
    func appAuthorizationOnlyUnderEverySetting(_ setting: UserDataAuthorization) async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client, authorization: setting)
            let key = try await client.createKey(code)
            let path = "/mobile/1/appinstance/\(pushRegId)/user/events/custom?validate=true"
            let body: JSONValue = ["events": [Self.event()]]
            #expect(try await client.send(.post, path, auth: "App \(code)", json: body).status == 200)
            let bearer = try await client.send(
                .post, path, auth: "Bearer \(client.token(key, code: code, sub: "alice"))", json: body)
            #expect(bearer.status == 401)
            #expect(bearer.messageId == "AUTHORIZATION_INVALID")
            #expect(try await client.send(.post, path, auth: "App other", json: body).messageId == "INVALID_APPLICATION_CODE")
            let unknown = try await client.send(
                .post, "/mobile/1/appinstance/nope/user/events/custom", auth: "App \(code)", json: body)
            #expect(unknown.messageId == "NO_REGISTRATION")
            #expect(try await client.send(.post, path, json: body).messageId == "AUTHORIZATION_INVALID")
            #expect(try await Self.stored(client, code).count == 1)
        }
    }

    // MARK: Attribution

    /// An event belongs to the person its installation had when it arrived: later
    /// personalize or depersonalize do not move it.
    @Test func eventsAreAttributedToThePersonOnArrival() async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            #expect(try await Self.submit(client, code, pushRegId, [Self.event("purchase", ["item": "a"])], validate: true).status == 200)
            #expect(try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"]).status == 200)
            #expect(try await Self.submit(client, code, pushRegId, [Self.event("purchase", ["item": "b"])], validate: true).status == 200)
            #expect(try await client.send(.post, "/mobile/1/appinstance/\(pushRegId)/depersonalize", auth: "App \(code)").status == 200)
            #expect(try await Self.submit(client, code, pushRegId, [Self.event("purchase", ["item": "c"])], validate: true).status == 200)

            let all = try await Self.stored(client, code)
            #expect(all.map { $0["externalUserId"] } == [.null, "alice", .null])
            // The anonymous person that sent "a" is the one that became alice.
            #expect(all[0]["personId"] == all[1]["personId"])
            #expect(all[2]["personId"] != all[1]["personId"])

            let alice = try await client.admin(.get, "/admin/applications/\(code)/people/alice/events")
            #expect(alice.body.arrayValue?.compactMap { $0["properties"]?["item"]?.stringValue } == ["a", "b"])
            let newPerson = all[2]["personId"]?.numberValue?.intValue ?? -1
            let anonymous = try await Self.stored(client, code, query: "?personId=\(newPerson)")
            #expect(anonymous.compactMap { $0["properties"]?["item"]?.stringValue } == ["c"])
            let nobody = try await client.admin(.get, "/admin/applications/\(code)/people/bob/events")
            #expect(nobody.messageId == "PERSON_NOT_FOUND")
        }
    }

    /// Personalizing into another person leaves the anonymous sender's events with it:
    /// the shell person is kept rather than pruned.
    @Test func anAnonymousSenderWithEventsIsNotPruned() async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            let other = try await client.register(code)
            #expect(try await client.personalize(other, auth: "App \(code)", identity: ["externalUserId": "alice"]).status == 200)
            #expect(try await Self.submit(client, code, pushRegId, [Self.event()], validate: true).status == 200)
            #expect(try await client.personalize(pushRegId, auth: "App \(code)", identity: ["externalUserId": "alice"]).status == 200)
            let event = try await Self.stored(client, code).first
            let people = try await client.admin(.get, "/admin/applications/\(code)/people").body.arrayValue ?? []
            #expect(people.contains { $0["id"] == event?["personId"] && $0["externalUserId"] == nil })
            #expect(try await client.admin(.get, "/admin/applications/\(code)/people/alice/events").body == [])
        }
    }

    // MARK: Faults

    @Test func faultInjectionAppliesToTheEventsRoute() async throws {
        try await Harness().run { client in
            let (code, pushRegId) = try await Self.setUp(client)
            _ = try await client.admin(
                .put, "/admin/faults",
                json: [["method": "POST", "path": "/mobile/1/appinstance/*/user/events/custom", "status": 503, "retryAfter": 2]])
            let faulted = try await Self.submit(client, code, pushRegId, [Self.event()], validate: true)
            #expect(faulted.status == 503)
            #expect(faulted.messageId == "FAULT_INJECTED")
            #expect(faulted.headers[.retryAfter] == "2")
            #expect(try await Self.stored(client, code).isEmpty)
            _ = try await client.admin(.delete, "/admin/faults")
            #expect(try await Self.submit(client, code, pushRegId, [Self.event()], validate: true).status == 200)
        }
    }

    // MARK: Dates

    @Test(arguments: [
        ("2026-02-26", true), ("2024-02-29", true), ("2023-02-29", false), ("2026-13-01", false), ("26-02-26", false),
        ("2026-02-26T09:41:57Z", true), ("2026-02-26t09:41:57z", true), ("2026-02-26T09:41:57+01:00", true),
        ("2026-02-26T09:41:57+0100", true), ("2026-02-26T09:41:57.5Z", true), ("2026-02-26T09:41:57.Z", false),
        ("2026-02-26T09:41Z", false), ("2026-02-26T09:41:57", false), ("2026-02-26T09:41:57+1:00", false),
        ("2026-02-26T24:00:00Z", false), ("2026-02-26 09:41:57Z", false), ("", false),
    ])
    func iso8601(_ text: String, _ accepted: Bool) {
        #expect(ISODate.isDateOrDateTime(text) == accepted)
    }
}
