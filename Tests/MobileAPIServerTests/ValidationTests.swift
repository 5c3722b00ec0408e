import Foundation
import HummingbirdTesting
import JSON
import Testing

@testable import MobileAPIServer

/// Input validation of the Mobile API, each refusal with its documented code.
@Suite("Validation")
struct ValidationTests {
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var status: Int
        var messageId: String
        /// A fragment the error text must contain (the field's name, the value).
        var text: String
        var testDescription: String { name }
    }

    static let userPatchRefusals: [Refusal] = [
        .init(name: "bad email", body: #"{"emails":[{"address":"not-an-email"}]}"#, status: 400, messageId: "EMAIL_INVALID", text: "Invalid email: not-an-email"),
        .init(name: "email without tld", body: #"{"emails":[{"address":"a@b"}]}"#, status: 400, messageId: "EMAIL_INVALID", text: "a@b"),
        .init(name: "bad phone", body: #"{"phones":[{"number":"12ab"}]}"#, status: 400, messageId: "PHONE_INVALID", text: "12ab"),
        .init(name: "short phone", body: #"{"phones":[{"number":"+123"}]}"#, status: 400, messageId: "PHONE_INVALID", text: "+123"),
        .init(name: "birthday format", body: #"{"birthday":"1990-1-2"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "birthday"),
        .init(name: "birthday not a day", body: #"{"birthday":"2023-02-29"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "birthday"),
        .init(name: "birthday a number", body: #"{"birthday":19900102}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "birthday"),
        .init(name: "gender lowercase", body: #"{"gender":"male"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "gender"),
        .init(name: "gender other", body: #"{"gender":"X"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "gender"),
        .init(name: "name too long", body: #"{"firstName":"\#(String(repeating: "a", count: 256))"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "firstName"),
        .init(name: "name a number", body: #"{"lastName":5}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "lastName"),
        .init(name: "nested custom attribute", body: #"{"customAttributes":{"a":{"b":1}}}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "customAttributes.a"),
        .init(name: "list of strings", body: #"{"customAttributes":{"a":["x"]}}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "customAttributes.a[0]"),
        .init(name: "list object nested", body: #"{"customAttributes":{"a":[{"b":[1]}]}}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "customAttributes.a[0].b"),
        .init(name: "custom string too long", body: #"{"customAttributes":{"a":"\#(String(repeating: "x", count: 4097))"}}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "customAttributes.a"),
        .init(name: "too many tags", body: #"{"tags":[\#((0...100).map { "\"t\($0)\"" }.joined(separator: ","))]}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "tags"),
        .init(name: "tag not a string", body: #"{"tags":[1]}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "tags[0]"),
        .init(name: "unknown field", body: #"{"nickname":"x"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "nickname"),
        .init(name: "type is read-only", body: #"{"type":"CUSTOMER"}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "type"),
        .init(name: "instances is read-only", body: #"{"instances":[]}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "instances"),
        .init(name: "malformed JSON", body: #"{"firstName":"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "JSON"),
        .init(name: "not an object", body: #"[1,2]"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "object"),
        .init(name: "empty externalUserId", body: #"{"externalUserId":" "}"#, status: 400, messageId: "REQUEST_FORMAT_INVALID", text: "externalUserId"),
    ]

    @Test(arguments: userPatchRefusals)
    func userPatchRefusal(_ refusal: Refusal) async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let reply = try await client.send(
                .patch, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)", raw: refusal.body)
            #expect(reply.status == refusal.status, "\(reply.text)")
            #expect(reply.messageId == refusal.messageId, "\(reply.text)")
            #expect(reply.errorText?.contains(refusal.text) == true, "\(reply.text)")
        }
    }

    @Test func acceptedValuesRoundTrip() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let body: JSONValue = [
                "firstName": "Ada", "lastName": "Lovelace", "middleName": "K", "birthday": "2024-02-29", "gender": "Female",
                "emails": [["address": "Ada@Example.com"], ["address": "ada@example.org", "preferred": true]],
                "phones": [["number": "+385911234567"]],
                "tags": ["a", "b", "a"],
                "customAttributes": [
                    "string": "s", "number": 1.5, "bool": true, "date": "2024-01-31", "datetime": "2024-01-31T10:00:00Z",
                    "list": [["item": "x", "qty": 2, "gift": false]],
                ],
            ]
            let reply = try await client.send(.patch, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)", json: body)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.body["birthday"] == "2024-02-29")
            #expect(reply.body["tags"] == ["a", "b"])
            #expect(reply.body["emails"] == [["address": "Ada@Example.com", "preferred": false], ["address": "ada@example.org", "preferred": true]])
            #expect(reply.body["phones"] == [["number": "+385911234567", "preferred": false]])
            #expect(reply.body["customAttributes"] == body["customAttributes"])
            #expect(reply.body["type"] == "LEAD")
        }
    }

    @Test func patchMergesOnlyTheFieldsSent() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            let auth = "App \(code)"
            _ = try await client.send(
                .patch, path, auth: auth,
                json: ["firstName": "A", "lastName": "B", "tags": ["t"], "customAttributes": ["x": 1, "y": "keep"]])
            let reply = try await client.send(
                .patch, path, auth: auth, json: ["firstName": nil, "customAttributes": ["x": nil, "z": true]])
            #expect(reply.body["firstName"] == nil)
            #expect(reply.body["lastName"] == "B")
            #expect(reply.body["tags"] == ["t"])
            #expect(reply.body["customAttributes"] == ["y": "keep", "z": true])
            let fetched = try await client.send(.get, path, auth: auth)
            #expect(fetched.body == reply.body)
        }
    }

    @Test func customAttributeCountIsBoundedAfterMerge() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let path = "/mobile/1/appinstance/\(pushRegId)/user"
            func attributes(_ range: Range<Int>) -> JSONValue {
                .object(JSONObject(range.map { ("k\($0)", JSONValue.number(JSONNumber($0))) }))
            }
            #expect(try await client.send(.patch, path, auth: "App \(code)", json: ["customAttributes": attributes(0..<60)]).status == 200)
            let reply = try await client.send(.patch, path, auth: "App \(code)", json: ["customAttributes": attributes(60..<101)])
            #expect(reply.status == 400)
            #expect(reply.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    @Test func authorizationHeaderRefusals() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let path = "/mobile/1/appinstance/\(pushRegId)"
            for auth in [nil, "", "Basic abc", "App", "Bearer", "App  "] as [String?] {
                let reply = try await client.send(.get, path, auth: auth)
                #expect(reply.status == 401, "\(String(describing: auth))")
                #expect(reply.messageId == "AUTHORIZATION_INVALID", "\(String(describing: auth))")
            }
            let unknown = try await client.send(.get, path, auth: "App nope")
            #expect(unknown.status == 401)
            #expect(unknown.messageId == "INVALID_APPLICATION_CODE")
            let registerUnknown = try await client.send(.post, "/mobile/1/appinstance", auth: "App nope", json: [:])
            #expect(registerUnknown.messageId == "INVALID_APPLICATION_CODE")
            // Installation endpoints take App only.
            let bearer = try await client.send(.get, path, auth: "Bearer x.y.z")
            #expect(bearer.status == 401)
            #expect(bearer.messageId == "AUTHORIZATION_INVALID")
            // The scheme is case-insensitive.
            #expect(try await client.send(.get, path, auth: "app \(code)").status == 200)
        }
    }

    @Test func unknownRegistration() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let other = try await client.createApplication()
            let foreign = try await client.register(other)
            for path in ["/mobile/1/appinstance/nope", "/mobile/1/appinstance/nope/user", "/mobile/1/appinstance/\(foreign)"] {
                let reply = try await client.send(.get, path, auth: "App \(code)")
                #expect(reply.status == 404, "\(path)")
                #expect(reply.messageId == "NO_REGISTRATION", "\(path)")
            }
            let bearer = try await client.send(.get, "/mobile/1/appinstance/nope/user", auth: "Bearer a.b.c")
            #expect(bearer.messageId == "NO_REGISTRATION")
        }
    }

    @Test func installationValidation() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            for (body, field) in [
                (#"{"regEnabled":"yes"}"#, "regEnabled"), (#"{"os":1}"#, "os"), (#"{"isPrimaryDevice":true}"#, "isPrimaryDevice"),
                (#"{"customAttributes":{"a":{}}}"#, "customAttributes.a"),
            ] {
                let reply = try await client.send(.post, "/mobile/1/appinstance", auth: "App \(code)", raw: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.messageId == "REQUEST_FORMAT_INVALID", "\(body)")
                #expect(reply.errorText?.contains(field) == true, "\(reply.text)")
            }
            let pushRegId = try await client.register(code)
            let changeId = try await client.send(
                .patch, "/mobile/1/appinstance/\(pushRegId)", auth: "App \(code)", json: ["pushRegId": "other"])
            #expect(changeId.messageId == "REQUEST_FORMAT_INVALID")
            let sameId = try await client.send(
                .patch, "/mobile/1/appinstance/\(pushRegId)", auth: "App \(code)",
                json: ["pushRegId": .string(pushRegId), "appVersion": "2.0", "customAttributes": ["k": "v"]])
            #expect(sameId.status == 200)
            #expect(sameId.body["appVersion"] == "2.0")
            #expect(sameId.body["os"] == "Linux")
            #expect(sameId.body["customAttributes"] == ["k": "v"])
        }
    }

    @Test func oversizedBody() async throws {
        try await Harness().run { client in
            let code = try await client.createApplication()
            let pushRegId = try await client.register(code)
            let huge = #"{"firstName":""# + String(repeating: "a", count: Limits.bodyBytes) + #""}"#
            let reply = try await client.send(.patch, "/mobile/1/appinstance/\(pushRegId)/user", auth: "App \(code)", raw: huge)
            #expect(reply.status == 413)
            #expect(reply.messageId == "REQUEST_FORMAT_INVALID")
        }
    }

    @Test func unknownEndpointKeepsTheErrorShape() async throws {
        try await Harness().run { client in
            let reply = try await client.send(.get, "/mobile/2/whatever")
            #expect(reply.status == 404)
            #expect(reply.messageId == "NOT_FOUND")
            let wrongMethod = try await client.send(.delete, "/mobile/1/appinstance/x/user", auth: "App a")
            #expect(wrongMethod.status == 404)
            #expect(wrongMethod.messageId == "NOT_FOUND")
        }
    }

    @Test(arguments: [
        ("a@b.co", true), ("first.last+tag@sub.example.com", true), ("a@b", false), ("@b.com", false), ("a@@b.com", false),
        ("a..b@c.com", false), ("a@-b.com", false), ("a@b.c1", false), ("a b@c.com", false), (".a@b.com", false),
    ])
    func emailRule(_ address: String, _ valid: Bool) {
        #expect(Validate.isValidEmail(address) == valid)
    }

    @Test(arguments: [
        ("2000-02-29", true), ("1900-02-29", false), ("2023-04-31", false), ("2023-12-31", true), ("2023-13-01", false),
        ("99-01-01", false), ("2023-01-01T00:00", false), ("0000-01-01", false),
    ])
    func birthdayRule(_ text: String, _ valid: Bool) {
        #expect(((try? Validate.birthday(text, field: "birthday")) != nil) == valid)
    }
}
