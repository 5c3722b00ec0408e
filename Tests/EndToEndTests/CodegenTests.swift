import Foundation
import Testing

/// Code generated from schema/openrpc.json: TypeScript declarations from our generator
/// (examples/codegen/gen-typescript.js), type-checked with `tsc --strict` together with a
/// usage file; pydantic models from datamodel-code-generator, through which the schema's
/// examples must round-trip.
@Suite("Codegen from the schema")
struct CodegenTests {
    static let codegen = CoreProcess.packageRoot.appendingPathComponent("examples/codegen")
    static let schema = CoreProcess.packageRoot.appendingPathComponent("schema/openrpc.json")

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-codegen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("TypeScript declarations type-check with tsc --strict, with a usage file",
          .enabled(if: ExternalTools.runs(ExternalTools.node != nil && ExternalTools.tsc != nil), "node or tsc missing (scripts/setup)"))
    func typescript() async throws {
        let node = try #require(ExternalTools.node, "node is not on PATH")
        let tsc = try #require(ExternalTools.tsc, "tsc is not on PATH: scripts/setup installs node-typescript")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let generated = try await ServerProcess.runProgram(node, [Self.codegen.appendingPathComponent("gen-typescript.js").path, Self.schema.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let declarations = directory.appendingPathComponent("mmcore.d.ts")
        try Data(generated.stdout.utf8).write(to: declarations)
        for name in ["interface UserData", "interface Installation", "interface ErrorData", "interface MobileMessagingMethods",
                     "interface MobileMessagingEvents", "requestUserDataJwt", "\"JWT_TOKEN_EXPIRED\"", "\"rpc.discover\"",
                     "interface Inbox", "interface InboxMessage", "interface InboxFilterOptions", "\"JWT_TOKEN_SUBJECT_MISMATCH\""] {
            #expect(generated.stdout.contains(name), "the declarations lack \(name)")
        }
        try FileManager.default.copyItem(at: Self.codegen.appendingPathComponent("usage.ts"), to: directory.appendingPathComponent("usage.ts"))

        let arguments = ["--noEmit", "--strict", "--target", "es2020"]
        let checked = try await ServerProcess.runProgram(tsc, arguments + [declarations.path, directory.appendingPathComponent("usage.ts").path])
        #expect(checked.status == 0, "tsc:\n\(checked.stdout)\(checked.stderr)")

        // The declarations must refuse a wrong call, or the check above proves nothing.
        let wrong = directory.appendingPathComponent("wrong.ts")
        try Data("""
            import type { MobileMessagingMethods } from './mmcore';
            const params: MobileMessagingMethods['saveUser']['params'] = [{ gender: 'Other' }];
            export { params };
            """.utf8).write(to: wrong)
        let refused = try await ServerProcess.runProgram(tsc, arguments + [declarations.path, wrong.path])
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("wrong.ts"), "\(refused.stdout)")
    }

    @Test("pydantic models from datamodel-code-generator round-trip the schema examples",
          .enabled(if: ExternalTools.runs(ExternalTools.datamodelCodeGenerator), "datamodel-code-generator missing (scripts/setup)"))
    func python() async throws {
        let python = try #require(ExternalTools.python, "python3 is not on PATH")
        try #require(ExternalTools.datamodelCodeGenerator, "python3 cannot import datamodel_code_generator: run scripts/setup")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = directory.appendingPathComponent("mmcore_models.py")

        let generated = try await ServerProcess.runProgram(python, [Self.codegen.appendingPathComponent("gen-python.py").path, models.path, Self.schema.path])
        #expect(generated.status == 0, "\(generated.stdout)\(generated.stderr)")
        let source = try String(contentsOf: models, encoding: .utf8)
        for model in ["class Configuration(BaseModel)", "class UserData(BaseModel)", "class Installation(BaseModel)",
                      "class PersonalizeContext(BaseModel)", "class ErrorData(BaseModel)", "class Event(BaseModel)"] {
            #expect(source.contains(model), "the models lack \(model)")
        }

        let roundTrip = try await ServerProcess.runProgram(python, [
            Self.codegen.appendingPathComponent("roundtrip_examples.py").path, models.path, Self.schema.path,
        ])
        #expect(roundTrip.status == 0, "\(roundTrip.stdout)\(roundTrip.stderr)")
        let checks = roundTrip.stdout.split(separator: "\n").last.flatMap { Int($0.replacingOccurrences(of: "OK ", with: "")) } ?? 0
        #expect(checks >= 20, "only \(checks) examples went through the models:\n\(roundTrip.stdout)")
        #expect(roundTrip.stdout.contains("refused as it should be: saveUser / saveUser with a malformed birthday"))
    }
}
