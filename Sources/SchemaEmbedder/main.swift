#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Build-time tool of the EmbedSchema plugin: `SchemaEmbedder <schema.json> <output.swift>`
// writes the schema's text as a raw string literal, byte for byte.

/// Writes `message` to stderr (fd 2; the C `stderr` global is not concurrency-safe).
func fail(_ message: String, status: Int32) -> Never {
    let bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(status)
}

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count > 0 { bytes.append(contentsOf: buffer[0..<count]) }
        if count < buffer.count { break }
    }
    return bytes
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let bytes = readFile(arguments[1]) else {
    fail("usage: SchemaEmbedder <schema.json> <output.swift>", status: 2)
}
let text = String(decoding: bytes, as: UTF8.self)
// Enough '#' that neither the closing delimiter nor an escape can occur in the text.
var hashes = "#"
while text.contains("\"\"\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
let source = """
    // Generated at build time by the EmbedSchema plugin from schema/openrpc.json.

    import JSON

    /// The OpenRPC document of this build: printed by `--print-schema`, returned by
    /// `rpc.discover` (parsed once, on first use). Public: the target that embeds it is
    /// shared by mmcore and the embedded library.
    public enum OpenRPCDocument {
        public static let text = \(hashes)\"\"\"
    \(text)
    \"\"\"\(hashes)

        public static let parsed: Result<JSONValue, JSONParseError> = Result { () throws(JSONParseError) in try JSONParser.parse(text) }
    }

    """
guard let file = fopen(arguments[2], "wb") else {
    fail("SchemaEmbedder: cannot write \(arguments[2])", status: 1)
}
let output = Array(source.utf8)
guard fwrite(output, 1, output.count, file) == output.count, fclose(file) == 0 else {
    fail("SchemaEmbedder: cannot write \(arguments[2])", status: 1)
}
