import PackagePlugin

/// Generates `OpenRPCDocument.swift` from `schema/openrpc.json` at build time, so the
/// executable carries the contract without a committed copy of it and without a
/// resource bundle (it stays one static file).
@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let schema = context.package.directoryURL.appending(path: "schema/openrpc.json")
        let output = context.pluginWorkDirectoryURL.appending(path: "OpenRPCDocument.swift")
        return [
            .buildCommand(
                displayName: "Embedding schema/openrpc.json in \(target.name)",
                executable: try context.tool(named: "SchemaEmbedder").url,
                arguments: [schema.path(percentEncoded: false), output.path(percentEncoded: false)],
                inputFiles: [schema],
                outputFiles: [output])
        ]
    }
}
