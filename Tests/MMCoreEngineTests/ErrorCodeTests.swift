import JSON
import Testing

@testable import MMCoreEngine

/// The error-code table is stated once in Swift (`ErrorCode`) and once in the schema
/// (`x-error-codes`) for code generators: the two must say the same.
@Suite struct ErrorCodeTests {
    static var schema: JSONValue? {
        // Tests/MMCoreEngineTests/ErrorCodeTests.swift -> the package root.
        let root = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        return readFile(root + "/schema/openrpc.json").flatMap { try? JSONParser.parse($0) }
    }

    @Test func everyCoreCodeIsInTheSchemaWithItsNumberAndNoOtherIs() throws {
        let table = try #require(Self.schema?["x-error-codes"]?.arrayValue)
        let documented = table.filter { $0["domain"] == .string(MobileMessagingError.Domain.core) }
        var schemaCodes: [String: Int] = [:]
        for entry in documented {
            if let name = entry["dataCode"]?.stringValue, let number = entry["code"]?.numberValue?.intValue {
                schemaCodes[name] = number
            }
        }
        let swiftCodes = Dictionary(uniqueKeysWithValues: ErrorCode.core.filter { $0.number != 1300 }.map { ($0.name, $0.number) })
        #expect(schemaCodes == swiftCodes)
        #expect(table.contains { $0["code"] == 1300 && $0["domain"] == .string(MobileMessagingError.Domain.backend) })
    }

    @Test func aCodeByNameCarriesItsNumberAndServerCodesAre1300() {
        let expired: ErrorCode = "JWT_TOKEN_EXPIRED"
        #expect(expired.number == 1102)
        #expect(ErrorCode("USER_DATA_RESTRICTED").number == 1300)
        #expect(MobileMessagingError(code: "TIMEOUT", description: "").numericCode == 1202)
        #expect(MobileMessagingError(code: "TIMEOUT", description: "", domain: MobileMessagingError.Domain.backend).numericCode == 1300)
        #expect(Set(ErrorCode.core.map(\.name)).count == ErrorCode.core.count)
    }
}
