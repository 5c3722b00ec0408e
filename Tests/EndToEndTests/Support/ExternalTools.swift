import Foundation

/// Tools beyond Swift that some end-to-end tests need (scripts/setup installs them).
/// Locally a test whose tool is missing is skipped with a message; under `CI=true` it
/// runs and fails, saying what is missing, so CI cannot pass by skipping.
enum ExternalTools {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    static let node = ServerProcess.onPath("node")
    static let tsc = ServerProcess.onPath("tsc")
    static let python = ServerProcess.onPath("python3")
    static let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(ServerProcess.onPath).first
    static let chromedriver = ServerProcess.onPath("chromedriver")

    /// Whether python3 can import `module`.
    static func pythonHas(_ module: String) -> Bool {
        guard let python else { return false }
        return (try? ServerProcess.runProgramBlocking(python, ["-c", "import \(module)"]).status) == 0
    }

    static let selenium = pythonHas("selenium")
    static let jsonschema = pythonHas("jsonschema")
    static let datamodelCodeGenerator = pythonHas("datamodel_code_generator")
    /// The third-party OpenRPC tools the schema must load in, at the versions scripts/setup pins.
    static let openRPCTools = pythonHas("openrpc, openrpcclientgenerator, tabella")

    /// The test runs when `available`, or always under CI (where it then fails at `#require`).
    static func runs(_ available: Bool) -> Bool { available || isCI }
}
