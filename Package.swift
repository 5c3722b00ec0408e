// swift-tools-version: 6.1
import PackageDescription

// Layout (see README): JSON is the shared value type and parser; JSONRPC is the
// protocol only; UserDataJWT is the token; MMCoreEngine is the SDK engine (not called
// MobileMessaging: that is the native iOS SDK's module, and an app links both);
// CoreService wires it to a connection, which mmcore serves on stdio and MMCoreEmbedded in process
// (a C interface). MobileAPIServer + mmserver are the local Mobile API.
let package = Package(
    name: "mmcore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mmcore", targets: ["mmcore"]),
        .executable(name: "mmserver", targets: ["mmserver"]),
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "JSONRPC", targets: ["JSONRPC"]),
        .library(name: "UserDataJWT", targets: ["UserDataJWT"]),
        .library(name: "MMCoreEngine", targets: ["MMCoreEngine"]),
        .library(name: "MMCoreBridge", targets: ["MMCoreBridge"]),
        .library(name: "MobileAPIServer", targets: ["MobileAPIServer"]),
        // The core in process: a C interface (include/mmcore.h) over the same engine.
        .library(name: "MMCoreEmbedded", type: .dynamic, targets: ["MMCoreEmbedded"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
    ],
    targets: [
        // MARK: Protocol and core
        .target(name: "JSON"),
        .target(name: "JSONRPC", dependencies: ["JSON", .product(name: "Logging", package: "swift-log")]),
        .target(name: "UserDataJWT", dependencies: ["JSON"]),
        .target(
            name: "MMCoreEngine",
            dependencies: [
                "JSON", "UserDataJWT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The bridge contract: one type per method, arguments decoded once, errors on the wire.
        .target(name: "MMCoreBridge", dependencies: ["JSON", "JSONRPC", "MMCoreEngine"]),
        // What both hosts serve: the methods, rpc.discover, events and token requests.
        .target(
            name: "CoreService",
            dependencies: ["JSON", "JSONRPC", "MMCoreEngine", "MMCoreBridge", .product(name: "Logging", package: "swift-log")],
            plugins: ["EmbedSchema"]
        ),
        .executableTarget(
            name: "mmcore",
            dependencies: [
                // No ArgumentParser: its reflection was most of a start-up (CommandLineOptions.swift).
                "JSON", "JSONRPC", "MMCoreEngine", "MMCoreBridge", "CoreService",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The C interface's header (and its status texts); the Swift side imports its types.
        .target(name: "CMMCore"),
        .target(
            name: "MMCoreEmbedded",
            dependencies: [
                "CMMCore", "CoreService", "JSONRPC", "MMCoreEngine", "MMCoreBridge", .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["exports.map"],
            // --static-swift-stdlib links executables statically but not dynamic libraries
            // (SwiftPM 6.3); a library that a Python or Dart process loads must carry its
            // Swift runtime too, and export only the C interface. Release only: the debug
            // library is the tests' own.
            linkerSettings: [
                .unsafeFlags(
                    ["-static-stdlib", "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/MMCoreEmbedded/exports.map"],
                    .when(platforms: [.linux], configuration: .release))
            ]
        ),
        // Build time: schema/openrpc.json becomes CoreService's OpenRPCDocument.swift.
        .executableTarget(name: "SchemaEmbedder"),
        .plugin(name: "EmbedSchema", capability: .buildTool(), dependencies: ["SchemaEmbedder"]),

        // MARK: Local Mobile API
        .target(
            name: "MobileAPIServer",
            dependencies: [
                "JSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "mmserver",
            dependencies: [
                "MobileAPIServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        // Helpers more than one test target needs, stated once: lines awaited with a
        // deadline, a pipe writer that never blocks the caller, a clock tests move.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: ["JSONRPC", "JSON", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "UserDataJWTTests", dependencies: ["UserDataJWT"]),
        .testTarget(name: "MMCoreEmbeddedTests", dependencies: ["MMCoreEmbedded", "CMMCore", "JSON"]),
        // A loopback HTTP server that misbehaves on purpose (stall, trickle, redirect, ...),
        // shared by the transport unit tests and the end-to-end tests.
        .target(name: "HostileHTTPServer", path: "Tests/HostileHTTPServer"),
        .testTarget(
            name: "MMCoreEngineTests",
            dependencies: [
                "MMCoreEngine", "MMCoreBridge", "JSON", "JSONRPC", "UserDataJWT", "HostileHTTPServer", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MobileAPIServerTests",
            dependencies: [
                "MobileAPIServer", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        // Black-box tests: spawn the built mmcore / mmserver and talk JSON lines / HTTP.
        .testTarget(name: "EndToEndTests", dependencies: ["JSON", "HostileHTTPServer", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
