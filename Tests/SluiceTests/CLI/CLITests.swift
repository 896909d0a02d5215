import Foundation
import Testing
@testable import Sluice

/// Real process runs of the `sluice` binary that `swift test` builds, with a timeout
/// on every child and crash backtraces off.
@Suite(.serialized) struct CLITests {
    struct Outcome {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL? {
        // Beside the test bundle first (any --scratch-path), then the default build directory.
        let products = Bundle.main.bundleURL
        let beside = products.appendingPathComponent("sluice")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let root = TestSupport.packageRoot.appendingPathComponent(".build")
        for candidate in ["debug/sluice", "release/sluice"] {
            let url = root.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    static func sluice(_ arguments: [String], timeout: TimeInterval = 60) throws -> Outcome {
        let binary = try #require(binary, "the sluice binary is not built")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", String(Int(timeout)), binary.path] + arguments
        process.currentDirectoryURL = TestSupport.packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(code: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func runWritesOutputAndExitsZero() throws {
        let out = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(out) }
        let summaryPath = out.appendingPathComponent("summary.json").path
        let result = try Self.sluice(["run", "pipelines/orders.yaml", "--output", out.path, "--summary", summaryPath, "--verbose"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("records in"))
        #expect(result.stdout.contains(out.path))
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
        #expect(summary.exitCode == 0)
        #expect(summary.records.out > 0)
    }

    @Test func thresholdExceededExitsOne() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(dir) }
        let config = dir.appendingPathComponent("strict.yaml")
        try TestSupport.write("""
            name: strict
            input: { path: \(TestSupport.fixture("orders").path), include: ["*.ndjson.gz"] }
            stages:
              - validate: { required: [id, total, ts] }
            output: { path: \(dir.appendingPathComponent("out").path) }
            errors: { max_errors: 0 }
            """, to: config)
        let result = try Self.sluice(["run", config.path])
        #expect(result.code == 1)
        #expect(result.stderr.contains("max_errors"))
    }

    @Test func configErrorsExitTwoWithPlaces() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(dir) }
        let config = dir.appendingPathComponent("bad.yaml")
        try TestSupport.write("name: bad\ninput: { path: x, readrs: 1 }\noutput: { path: y }\n", to: config)
        for command in ["run", "validate"] {
            let result = try Self.sluice([command, config.path])
            #expect(result.code == 2)
            #expect(result.stderr.contains("bad.yaml:2:19: input.readrs: unknown key 'readrs' (did you mean 'readers'?)"), "\(result.stderr)")
        }
        let valid = try Self.sluice(["validate", "pipelines/orders.yaml"])
        #expect(valid.code == 0)
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Self.sluice(["run"]).code == 2)
        #expect(try Self.sluice(["run", "pipelines/orders.yaml", "--no-such-flag"]).code == 2)
        #expect(try Self.sluice(["--help"]).code == 0)
    }

    @Test func missingInputDirectoryExitsOne() throws {
        let out = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(out) }
        let result = try Self.sluice(["run", "pipelines/orders.yaml", "--input", "/nonexistent/dir", "--output", out.path])
        #expect(result.code == 1)
        #expect(result.stderr.contains("/nonexistent/dir"))
    }
}
