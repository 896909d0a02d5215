import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Every pipeline in `pipelines/` runs on `fixtures/`, and its output, error report and
/// summary match the expected files in `fixtures/expected/<pipeline>/`.
///
/// To accept a deliberate change, rerun with `SLUICE_UPDATE_EXPECTED=1 swift test
/// --filter BundledPipeline` and review the diff of `fixtures/expected/`.
@Suite struct BundledPipelineTests {
    static let pipelines = ["orders", "orders-xml", "enrich", "command"]

    @Test(arguments: pipelines) func pipelineMatchesExpectedFiles(name: String) throws {
        let root = TestSupport.packageRoot
        let config = try PipelineConfig.load(path: root.appendingPathComponent("pipelines/\(name).yaml").path)
        let out = TestSupport.temporaryDirectory("sluice-bundled")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(config, input: URL(fileURLWithPath: config.input.path), output: out)
        let outputURL = try #require(summary.outputs.first.map { URL(fileURLWithPath: $0) })
        let output = config.output.compression == .gzip ? try TestSupport.gunzip(outputURL) : TestSupport.read(outputURL)
        // One error report per run, named with the run id: errors.ndjson → errors-test.ndjson.
        let errors = TestSupport.read(URL(fileURLWithPath: summary.errorReport))
        let normalized = Self.normalize(summary)

        let expected = TestSupport.fixture("expected/\(name)")
        let files: [(String, [UInt8])] = [("output.ndjson", output), ("errors.ndjson", errors), ("summary.json", normalized)]
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_EXPECTED"] == "1" {
            try FileManager.default.createDirectory(at: expected, withIntermediateDirectories: true)
            for (file, bytes) in files { try Data(bytes).write(to: expected.appendingPathComponent(file)) }
        }
        for (file, bytes) in files {
            let want = TestSupport.read(expected.appendingPathComponent(file))
            #expect(!want.isEmpty, "missing fixtures/expected/\(name)/\(file)")
            #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: want, as: UTF8.self), "fixtures/expected/\(name)/\(file)")
        }
    }

    /// The summary without what varies from run to run (times, paths, run id, busy
    /// seconds, queue high-water marks, compressed sizes).
    static func normalize(_ summary: RunSummary) -> [UInt8] {
        var s = summary
        s.runID = "RUN"
        s.startedAt = ""
        s.endedAt = ""
        s.elapsedSeconds = 0
        s.outputs = s.outputs.map { URL(fileURLWithPath: $0).lastPathComponent }
        s.errorReport = URL(fileURLWithPath: s.errorReport).lastPathComponent
        s.bytes.written = 0
        s.stages = s.stages.map {
            var stage = $0
            stage.busySeconds = 0
            stage.queueHighWater = 0
            return stage
        }
        return [UInt8](s.encoded())
    }
}
