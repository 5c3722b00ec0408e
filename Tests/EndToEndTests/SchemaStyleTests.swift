import Foundation
import JSON
import Testing

/// The forms schema/openrpc.json keeps so that third-party OpenRPC tools read it as it is
/// (ThirdPartyOpenRPCToolsTests runs the tools; these checks need none, so a method added
/// in another form fails here on every machine):
/// - a method's errors are error objects written inline, never a `$ref`: the PyPI `openrpc`
///   package and the tools built on it refuse a referenced error;
/// - one error code, one text: every error with a given code is written identically;
///   `components/errors` keeps only the protocol errors no method lists;
/// - a nullable value is `oneOf: [X, {"type": "null"}]`, never a `type` array;
/// - every component schema has `properties` (or is an enum): code generators skip the
///   others but still refer to them by name (so the custom attributes are written inline,
///   one schema at each use);
/// - `info.license` is the license in LICENSE, with its URL.
@Suite("Schema style for third-party tools")
struct SchemaStyleTests {
    static let schema: JSONValue? = {
        let url = CoreProcess.packageRoot.appendingPathComponent("schema/openrpc.json")
        return (try? Data(contentsOf: url)).flatMap { try? JSONParser.parse(String(decoding: $0, as: UTF8.self)) }
    }()

    /// Each method, and each request the core sends of its own, with its name.
    static func methods() throws -> [(name: String, method: JSONValue)] {
        let schema = try #require(Self.schema, "schema/openrpc.json does not parse")
        let all = (schema["methods"]?.arrayValue ?? []) + (schema["x-client-requests"]?.arrayValue ?? [])
        return all.map { (name: $0["name"]?.stringValue ?? "?", method: $0) }
    }

    @Test("every method writes its errors inline: code, message, data with description and domain")
    func errorsAreInline() throws {
        var count = 0
        for (name, method) in try Self.methods() {
            for error in method["errors"]?.arrayValue ?? [] {
                count += 1
                #expect(error["$ref"] == nil, "\(name): an error is a $ref (\(error)); write the error object itself")
                #expect(error["code"]?.numberValue?.intValue != nil, "\(name): an error has no integer code: \(error)")
                #expect(error["message"]?.stringValue != nil, "\(name): an error has no message: \(error)")
                #expect(error["data"]?["description"]?.stringValue != nil && error["data"]?["domain"]?.stringValue != nil,
                        "\(name): an error's data lacks description or domain: \(error)")
            }
        }
        #expect(count > 50, "only \(count) errors are listed")
    }

    @Test("an error code is written the same everywhere, and components/errors holds only errors no method lists")
    func oneCodeOneText() throws {
        let schema = try #require(Self.schema)
        var byCode: [Int: JSONValue] = [:]
        for (name, method) in try Self.methods() {
            for error in method["errors"]?.arrayValue ?? [] {
                guard let code = error["code"]?.numberValue?.intValue else { continue }
                if let first = byCode[code] {
                    #expect(error == first, "\(name): error \(code) differs from its other listings:\n\(error)\n\(first)")
                } else {
                    byCode[code] = error
                }
            }
        }
        for member in schema["components"]?["errors"]?.objectValue ?? JSONObject() {
            let code = member.value["code"]?.numberValue?.intValue
            #expect(code.map { byCode[$0] == nil } == true,
                    "components/errors/\(member.key) (\(code.map(String.init) ?? "no code")) is listed by a method: keep it there, inline, only")
        }
    }

    @Test("a nullable value is a oneOf with null, never a type array")
    func nullableIsOneOf() throws {
        let schema = try #require(Self.schema)
        var typeArrays: [String] = []
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let object):
                for member in object {
                    if member.key == "type", member.value.arrayValue != nil { typeArrays.append(path) }
                    walk(member.value, "\(path)/\(member.key)")
                }
            case .array(let items):
                for (index, item) in items.enumerated() { walk(item, "\(path)/\(index)") }
            default:
                break
            }
        }
        walk(schema, "#")
        #expect(typeArrays.isEmpty, "write these as oneOf: [{type: X}, {type: null}]: \(typeArrays)")
    }

    @Test("every component schema has properties or is an enum")
    func componentSchemasHaveProperties() throws {
        let schemas = try #require(Self.schema?["components"]?["schemas"]?.objectValue)
        #expect(schemas.count >= 5)
        for member in schemas {
            let hasProperties = member.value["properties"]?.objectValue.map { !$0.isEmpty } == true
            #expect(hasProperties || member.value["enum"] != nil,
                    "components/schemas/\(member.key) has no properties: generators skip it yet name it; write it inline where used")
        }
    }

    @Test("the custom attributes, written inline where used, are the same schema everywhere")
    func customAttributesAreOneSchema() throws {
        let schemas = try #require(Self.schema?["components"]?["schemas"])
        let uses = ["UserData", "UserAttributes", "Installation"].map { schemas[$0]?["properties"]?["customAttributes"] }
        #expect(uses.allSatisfy { $0 != nil }, "a model lost its customAttributes")
        #expect(Set(uses.map { $0?.serialized ?? "" }).count == 1, "the customAttributes schemas differ: \(uses)")
    }

    @Test("info.license is the license in LICENSE, with its URL")
    func licenseIsTheProjects() throws {
        let license = try #require(Self.schema?["info"]?["license"])
        let text = try String(contentsOf: CoreProcess.packageRoot.appendingPathComponent("LICENSE"), encoding: .utf8)
        // LICENSE opens with "<name> License", as in "MIT License".
        let firstLine = text.split(separator: "\n").first.map(String.init) ?? ""
        let name = try #require(firstLine.hasSuffix(" License") ? String(firstLine.dropLast(" License".count)) : nil,
                                "LICENSE does not open with \"<name> License\": \(firstLine)")
        #expect(license["name"]?.stringValue == name)
        #expect(license["url"]?.stringValue?.hasPrefix("https://") == true, "info.license has no URL: \(license)")
    }
}
