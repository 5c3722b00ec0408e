import Foundation
import Testing

/// schema/openrpc.json as the common third-party OpenRPC tooling reads it, through
/// examples/codegen/third_party_tools.py: the PyPI `openrpc` package loads it losing nothing
/// but the `x-` extensions, `openrpcclientgenerator`'s clients import (Python), type-check
/// (TypeScript) and define the types they name (Rust), and `tabella` renders its pages.
/// These tools refuse an error written as a `$ref`, and skip property-less component schemas.
@Suite("Third-party OpenRPC tools load the schema")
struct ThirdPartyOpenRPCToolsTests {
    static let script = CoreProcess.packageRoot.appendingPathComponent("examples/codegen/third_party_tools.py")
    static let schema = CoreProcess.packageRoot.appendingPathComponent("schema/openrpc.json")

    @Test("openrpc, openrpcclientgenerator and tabella load the schema as it is",
          .enabled(if: ExternalTools.runs(ExternalTools.openRPCTools), "openrpc, openrpcclientgenerator or tabella missing (scripts/setup)"))
    func theToolsLoadTheSchema() async throws {
        let python = try #require(ExternalTools.python, "python3 is not on PATH")
        try #require(ExternalTools.openRPCTools, "python3 cannot import openrpc, openrpcclientgenerator and tabella: run scripts/setup")
        var arguments = [Self.script.path]
        if let tsc = ExternalTools.tsc {
            arguments += ["--tsc", tsc]
        } else if ExternalTools.isCI {
            Issue.record("tsc is not on PATH: scripts/setup installs node-typescript")
        }
        let result = try await ServerProcess.runProgram(python, arguments + [Self.schema.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        for step in ["openrpc's reading is the document", "Python models import", "Rust models define every type",
                     "tabella renders the documentation page", "tabella renders the form of all"] {
            #expect(result.stdout.contains(step), "the check did not get to \"\(step)\":\n\(result.stdout)")
        }
    }

    @Test("the check refuses a method whose error is a $ref, as the tools do",
          .enabled(if: ExternalTools.runs(ExternalTools.openRPCTools), "openrpc, openrpcclientgenerator or tabella missing (scripts/setup)"))
    func theCheckRefusesAReferencedError() async throws {
        let python = try #require(ExternalTools.python, "python3 is not on PATH")
        try #require(ExternalTools.openRPCTools, "python3 cannot import openrpc, openrpcclientgenerator and tabella: run scripts/setup")
        // The first method gets a first error written as a $ref to an error of components/errors.
        let text = try String(contentsOf: Self.schema, encoding: .utf8)
        let errors = try #require(text.range(of: #""errors": ["#), "the schema's first method lists no errors")
        let referenced = text.replacingCharacters(in: errors, with: ##""errors": [{"$ref": "#/components/errors/InternalError"},"##)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-openrpc-\(UUID().uuidString).json")
        try Data(referenced.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let result = try await ServerProcess.runProgram(python, [Self.script.path, file.path])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("FAIL openrpc refused the document"), "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("methods.0.errors.0.code"), "\(result.stdout)")
    }
}
