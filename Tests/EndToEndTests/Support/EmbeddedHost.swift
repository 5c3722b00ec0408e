import Foundation

/// The second transport of the core: `MMCORE_TRANSPORT=embedded` makes ``CoreProcess``
/// (and so every harness built on it) launch the C host of `examples/embedded/host.c`,
/// which loads `libMMCoreEmbedded` and bridges its stdin and stdout to it, instead of
/// `mmcore`. The host takes mmcore's command line, so the suites run unchanged.
enum EmbeddedHost {
    static let isSelected = ProcessInfo.processInfo.environment["MMCORE_TRANSPORT"] == "embedded"

    /// The directory of the built products: the test binary's (on Linux
    /// `.build/<triple>/debug/`), else `.build/debug`.
    static let productsDirectory: URL = {
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: sibling.appendingPathComponent(libraryName).path) { return sibling }
        return CoreProcess.packageRoot.appendingPathComponent(".build/debug")
    }()

    #if os(macOS)
    static let libraryName = "libMMCoreEmbedded.dylib"
    #else
    static let libraryName = "libMMCoreEmbedded.so"
    #endif

    /// The library: `$MMCORE_LIBRARY`, else the one built next to the tests.
    static var library: URL {
        if let path = ProcessInfo.processInfo.environment["MMCORE_LIBRARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return productsDirectory.appendingPathComponent(libraryName)
    }

    /// The host, compiled once per test run by `examples/embedded/build-host` against
    /// ``library`` (a second or so with `cc`), or why it could not be.
    static let build: Result<URL, CoreProcess.Failure> = {
        let library = Self.library
        guard FileManager.default.fileExists(atPath: library.path) else {
            return .failure(.init(description: "no \(libraryName) at \(library.path): run `swift build` (or set MMCORE_LIBRARY)"))
        }
        // Beside the library; built under a name of its own, then renamed, so a test run
        // in parallel never starts a half-written host.
        let output = library.deletingLastPathComponent().appendingPathComponent("mmcore-embedded-host")
        let building = output.appendingPathExtension("\(getpid())")
        let script = CoreProcess.packageRoot.appendingPathComponent("examples/embedded/build-host")
        do {
            let result = try ServerProcess.runProgramBlocking(
                script.path, [library.deletingLastPathComponent().path, building.path])
            guard result.status == 0 else {
                return .failure(.init(description: "building the embedded host failed:\n\(result.stdout)\(result.stderr)"))
            }
            guard rename(building.path, output.path) == 0 else {
                return .failure(.init(description: "cannot rename \(building.path): errno \(errno)"))
            }
        } catch {
            return .failure(.init(description: "building the embedded host failed: \(error)"))
        }
        return .success(output)
    }()
}
