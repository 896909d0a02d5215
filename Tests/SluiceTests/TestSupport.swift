import Foundation
import Logging
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The package root (this file is Tests/SluiceTests/TestSupport.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/conformance` beside the checkout, when present (`SLUICE_CONFORMANCE_DIR`
    /// points elsewhere, e.g. at a missing directory to try a fresh clone).
    static let conformance: URL = ProcessInfo.processInfo.environment["SLUICE_CONFORMANCE_DIR"].map { URL(fileURLWithPath: $0) }
        ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")

    /// `SLUICE_REQUIRE_CONFORMANCE=1` (set by .ci/run): the conformance tests run, and fail
    /// when their data is missing, instead of being skipped.
    static let requiresConformance = ProcessInfo.processInfo.environment["SLUICE_REQUIRE_CONFORMANCE"] == "1"

    /// Whether the conformance suites run: their data is there, or it is required (and
    /// then its absence fails them). Skipped suites show this note in the test output.
    static func runsConformance(_ directory: URL) -> Bool {
        requiresConformance || FileManager.default.fileExists(atPath: directory.path)
    }

    static let conformanceNote: Comment = """
        skipped: ../shared/conformance is not beside this checkout (a fresh clone); \
        SLUICE_REQUIRE_CONFORMANCE=1 makes these tests required
        """

    static func fixture(_ path: String) -> URL { packageRoot.appendingPathComponent("fixtures").appendingPathComponent(path) }

    /// A fresh temporary directory, removed by the caller with `cleanup`.
    static func temporaryDirectory(_ name: String = "sluice-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func cleanup(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    static func gzip(_ bytes: [UInt8], level: Int = 6) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &out) }
        return out
    }

    /// Decompresses a whole (possibly multi-member) gzip file with Sluice's own reader.
    static func gunzip(_ url: URL) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    static let logger = Logger(label: "sluice-test")

    /// Runs `config` with fixed paths and run id.
    static func run(_ config: PipelineConfig, input: URL, output: URL, runID: String = "test") -> RunSummary {
        PipelineRun(config: config, options: RunOptions(inputPath: input.path, outputPath: output.path, runID: runID),
                    logger: logger).run()
    }

    static func read(_ url: URL) -> [UInt8] { (try? [UInt8](Data(contentsOf: url))) ?? [] }

    /// Threads of this process whose name starts with `sluice-` (from /proc).
    static func sluiceThreadCount() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
            return comm.hasPrefix("sluice-")
        }.count
    }
}
