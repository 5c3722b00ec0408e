// swift-tools-version: 6.1
import PackageDescription

// A libFuzzer target for the stdio transport's input path, kept out of the root package
// so that an ordinary `swift build` never needs `-sanitize=fuzzer`. Built and run by
// `fuzz/run`, which passes `-sanitize=fuzzer`; main.swift hands control to libFuzzer's
// driver.
let package = Package(
    name: "mmcore-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "mmcore", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "RPCFuzz",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "JSON", package: "mmcore"),
                .product(name: "JSONRPC", package: "mmcore"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
