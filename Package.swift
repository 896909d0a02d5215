// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Sluice", targets: ["Sluice"]),
        .executable(name: "sluice", targets: ["sluice"]),
        .executable(name: "sluice-bench", targets: ["sluice-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CSystem", path: "Sources/CSystem"),
        // Types of the compression libraries loaded at run time (dlopen): nothing to link.
        .systemLibrary(name: "CCodecs", path: "Sources/CCodecs"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The library is four targets, one per layer, each using only those before it
        // (ARCHITECTURE.md). Their files stay under Sources/Sluice: each target picks its
        // folders, and `Sluice` (the facade the CLI and bench import) takes the rest.
        .target(
            name: "SluiceCore",
            dependencies: ["CSystem", "CLibXML2"],
            path: "Sources/Sluice",
            exclude: ["Exports.swift", "Expressions", "Stages", "Codecs", "Inputs", "Sinks", "State", "Config", "Runtime"],
            sources: ["Core", "KeyTable", "Formats"]
        ),
        .target(
            name: "SluiceStages",
            dependencies: [
                "SluiceCore",
                "CSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Sluice",
            exclude: ["Exports.swift", "Core", "KeyTable", "Formats", "Codecs", "Inputs", "Sinks", "State", "Config", "Runtime"],
            sources: ["Expressions", "Stages"]
        ),
        .target(
            name: "SluiceIO",
            dependencies: [
                "SluiceCore",
                "SluiceStages",
                "CCodecs",
                "CSQLite",
                "CZlib",
                "CLibXML2",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Sluice",
            exclude: ["Exports.swift", "Core", "KeyTable", "Formats", "Expressions", "Stages", "Config", "Runtime"],
            sources: ["Codecs", "Inputs", "Sinks", "State"]
        ),
        .target(
            name: "Sluice",
            dependencies: [
                "SluiceCore",
                "SluiceStages",
                "SluiceIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Core", "KeyTable", "Formats", "Expressions", "Stages", "Codecs", "Inputs", "Sinks", "State"]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "Sluice",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                "Sluice",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SluiceTests", dependencies: ["Sluice", "SluiceCore", "SluiceStages", "SluiceIO"]),
    ],
    swiftLanguageModes: [.v6]
)
