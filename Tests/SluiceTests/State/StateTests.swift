import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct FingerprintTests {
    static func hash(_ text: String) -> String {
        var f = Fingerprint()
        Array(text.utf8).withUnsafeBytes { f.update($0) }
        return Fingerprint.hex(f.finish())
    }

    @Test func knownXXH64Values() {
        #expect(Self.hash("") == "ef46db3751d8e999")
        #expect(Self.hash("a") == "d24ec4f1a98c6e5b")
        #expect(Self.hash("abc") == "44bc2cf5ad770999")
    }

    @Test func chunkingDoesNotChangeTheResult() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var whole = Fingerprint()
        bytes.withUnsafeBytes { whole.update($0) }
        for step in [1, 3, 31, 32, 33, 100] {
            var parts = Fingerprint()
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + step)
                bytes[i..<end].withUnsafeBytes { parts.update($0) }
                i = end
            }
            #expect(parts.finish() == whole.finish(), "step \(step)")
        }
    }
}

@Suite struct RunLockTests {
    @Test func secondHolderIsRefusedWithThePID() throws {
        let dir = TestSupport.temporaryDirectory("sluice-lock")
        defer { TestSupport.cleanup(dir) }
        let first = try RunLock.acquire(directory: dir.path)
        #expect(throws: RunLockError.self) { try RunLock.acquire(directory: dir.path) }
        do {
            _ = try RunLock.acquire(directory: dir.path)
        } catch {
            guard case .held(_, let pid, _) = error else { Issue.record("\(error)"); return }
            #expect(pid == getpid())
            #expect(error.description.contains("process \(getpid())"))
        }
        first.release()
        let again = try RunLock.acquire(directory: dir.path)
        again.release()
    }

    @Test func durationsParse() {
        #expect(parseDuration("30") == nil)   // no unit: seconds or minutes? refused
        #expect(parseDuration("30s") == 30)
        #expect(parseDuration("500ms") == 0.5)
        #expect(parseDuration("5m") == 300)
        #expect(parseDuration("2h") == 7200)
        #expect(parseDuration("1d") == 86400)
        #expect(parseDuration("-1s") == nil)
        #expect(parseDuration("soon") == nil)
    }

    @Test func errorReportNamesCarryTheRunID() {
        #expect(PipelineRun.errorReportName("errors.ndjson", runID: "R") == "errors-R.ndjson")
        #expect(PipelineRun.errorReportName("rep/bad.ndjson.gz", runID: "R") == "rep/bad-R.ndjson.gz")
        #expect(PipelineRun.errorReportName("errors", runID: "R") == "errors-R")
    }
}

/// Incremental runs through the library: the ledger, on_change, the retry cap, recovery.
@Suite struct LedgerRunTests {
    static func config(_ extra: String = "") throws -> PipelineConfig {
        try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in\(extra) }
            stages:
              - validate: { required: [id] }
            output: { path: out }
            """)
    }

    static func records(in out: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        return names.filter { $0.hasPrefix("t-") && $0.hasSuffix(".ndjson") }.flatMap { name in
            String(decoding: TestSupport.read(out.appendingPathComponent(name)), as: UTF8.self).split(separator: "\n").map(String.init)
        }.sorted()
    }

    @Test func secondRunSkipsDoneFilesAndANewFileIsTheOnlyOneRead() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        try TestSupport.write("{\"id\":1}\n{\"id\":2}\n", to: input.appendingPathComponent("a.ndjson"))
        try TestSupport.write("{\"id\":3}\n", to: input.appendingPathComponent("b.ndjson"))
        let config = try Self.config()
        let first = TestSupport.run(config, input: input, output: out, runID: "r1")
        #expect(first.exitCode == 0)
        #expect(first.files.processed == 2)

        let second = TestSupport.run(config, input: input, output: out, runID: "r2")
        #expect(second.exitCode == 0)
        #expect(second.files.processed == 0 && second.files.skipped == 2)
        #expect(second.outputs.isEmpty)

        try TestSupport.write("{\"id\":4}\n", to: input.appendingPathComponent("c.ndjson"))
        let third = TestSupport.run(config, input: input, output: out, runID: "r3")
        #expect(third.files.processed == 1 && third.files.skipped == 2)
        #expect(Self.records(in: out) == ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}", "{\"id\":4}"])

        var full = RunOptions(inputPath: input.path, outputPath: out.path, runID: "r4")
        full.full = true
        #expect(PipelineRun(config: config, options: full, logger: TestSupport.logger).run().files.processed == 3)
    }

    @Test func touchedFileIsVerifiedByFingerprintAndChangedFileReprocessed() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        let a = input.appendingPathComponent("a.ndjson")
        try TestSupport.write("{\"id\":1}\n", to: a)
        let config = try Self.config()
        _ = TestSupport.run(config, input: input, output: out, runID: "r1")

        // Same bytes, new mtime: read again, found unchanged, nothing written twice.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -100)], ofItemAtPath: a.path)
        let touched = TestSupport.run(config, input: input, output: out, runID: "r2")
        #expect(touched.files.unchanged == 1 && touched.files.processed == 0)
        #expect(Self.records(in: out) == ["{\"id\":1}"])
        // ... and the ledger now holds the new mtime: the next run skips it without reading.
        #expect(TestSupport.run(config, input: input, output: out, runID: "r3").files.skipped == 1)

        // Same size, other content: reprocessed.
        try TestSupport.write("{\"id\":7}\n", to: a)
        let changed = TestSupport.run(config, input: input, output: out, runID: "r4")
        #expect(changed.files.processed == 1)
        #expect(Self.records(in: out) == ["{\"id\":1}", "{\"id\":7}"])
    }

    @Test func onChangeSkipAndError() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        let a = input.appendingPathComponent("a.ndjson")
        try TestSupport.write("{\"id\":1}\n", to: a)
        _ = TestSupport.run(try Self.config(), input: input, output: out, runID: "r1")
        try TestSupport.write("{\"id\":1}\n{\"id\":2}\n", to: a)
        let skip = TestSupport.run(try Self.config(", on_change: skip"), input: input, output: out, runID: "r2")
        #expect(skip.files.skipped == 1 && skip.files.processed == 0)
        let error = TestSupport.run(try Self.config(", on_change: error"), input: input, output: out, runID: "r3")
        #expect(error.files.failed == 1)
        let report = String(decoding: TestSupport.read(URL(fileURLWithPath: error.errorReport)), as: UTF8.self)
        #expect(report.contains("on_change is error"))
    }

    @Test func failedFileIsRetriedUntilTheCapThenSkippedUntilRetryFailed() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        try TestSupport.write("[{\"id\":1}, {\"id\":", to: input.appendingPathComponent("broken.json"))
        let config = try Self.config(", max_retries: 1")
        #expect(TestSupport.run(config, input: input, output: out, runID: "r1").files.failed == 1)
        #expect(TestSupport.run(config, input: input, output: out, runID: "r2").files.failed == 1)
        let capped = TestSupport.run(config, input: input, output: out, runID: "r3")
        #expect(capped.files.failed == 0 && capped.files.skipped == 1)
        var retry = RunOptions(inputPath: input.path, outputPath: out.path, runID: "r4")
        retry.retryFailed = true
        #expect(PipelineRun(config: config, options: retry, logger: TestSupport.logger).run().files.failed == 1)
    }

    @Test func minAgeLeavesFreshFilesForLater() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        try TestSupport.write("{\"id\":1}\n", to: input.appendingPathComponent("new.ndjson"))
        let old = input.appendingPathComponent("old.ndjson")
        try TestSupport.write("{\"id\":2}\n", to: old)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: old.path)
        let summary = TestSupport.run(try Self.config(", min_age: 10m"), input: input, output: out)
        #expect(summary.files.processed == 1 && summary.files.skipped == 1)
        #expect(Self.records(in: out) == ["{\"id\":2}"])
    }

    @Test func onSuccessMovesAndDeletesAfterTheCommit() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        let done = dir.appendingPathComponent("done"), bad = dir.appendingPathComponent("bad")
        try TestSupport.write("{\"id\":1}\n", to: input.appendingPathComponent("sub/a.ndjson"))
        try TestSupport.write("[{\"id\":1}", to: input.appendingPathComponent("b.json"))
        let summary = TestSupport.run(try Self.config(", on_success: { move: \(done.path) }, on_failure: { move: \(bad.path) }"),
                                      input: input, output: out)
        #expect(summary.files.processed == 1 && summary.files.failed == 1)
        #expect(FileManager.default.fileExists(atPath: done.appendingPathComponent("sub/a.ndjson").path))
        #expect(FileManager.default.fileExists(atPath: bad.appendingPathComponent("b.json").path))
        #expect(!FileManager.default.fileExists(atPath: input.appendingPathComponent("sub/a.ndjson").path))
    }

    @Test func recoveryRollsPendingRunsForwardOrBack() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ledger")
        defer { TestSupport.cleanup(dir) }
        let ledger = try Ledger(directory: dir.path)
        let file = Ledger.FileOutcome(path: "a", size: 1, mtime: 1, fingerprint: "00", status: .done, error: nil)
        // Both outputs in place: the renames happened, the run is kept.
        try ledger.prepare(runID: "fwd", pipeline: "t", outputs: ["o1", "e1"], files: [file])
        try TestSupport.write("x", to: dir.appendingPathComponent("o1"))
        try TestSupport.write("x", to: dir.appendingPathComponent("e1"))
        // One of two in place: the run is undone and its output removed.
        var other = file
        other.path = "b"
        try ledger.prepare(runID: "back", pipeline: "t", outputs: ["o2", "e2"], files: [other])
        try TestSupport.write("x", to: dir.appendingPathComponent("o2"))
        try TestSupport.write("x", to: dir.appendingPathComponent(".o3.tmp-back"))
        let recovery = try ledger.recover(outputDirectory: dir.path, temporaryDirectories: [])
        #expect(recovery.rolledForward == ["fwd"] && recovery.rolledBack == ["back"])
        #expect(recovery.removedTemporaryFiles.count == 1)
        #expect(try ledger.entry(pipeline: "t", path: "a")?.runID == "fwd")
        #expect(try ledger.entry(pipeline: "t", path: "b") == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o2").path))
    }

    @Test func metricsTextHasTheDocumentedSeries() {
        let stage = RunSummary.StageStats(name: "check", kind: "validate", workers: 2, queueCapacity: 8, queueHighWater: 3,
                                          recordsIn: 10, recordsOut: 9, recordsFailed: 1, recordsFiltered: 0, busySeconds: 0.5)
        let text = PrometheusText.render(MetricsSnapshot(
            pipeline: "orders", durationSeconds: 1.5, filesSeen: 3, filesProcessed: 2, filesFailed: 1, filesSkipped: 0,
            filesLeft: 0, recordsIn: 10, recordsOut: 9, stages: [stage], exitCode: 0, lastSuccess: 1_700_000_000))
        #expect(text.contains("sluice_stage_records_in{pipeline=\"orders\",stage=\"check\"} 10\n"))
        #expect(text.contains("sluice_stage_busy_seconds{pipeline=\"orders\",stage=\"check\"} 0.500\n"))
        #expect(text.contains("sluice_stage_queue_high_water{pipeline=\"orders\",stage=\"check\"} 3\n"))
        #expect(text.contains("sluice_files{pipeline=\"orders\",state=\"failed\"} 1\n"))
        #expect(text.contains("sluice_last_success_timestamp_seconds{pipeline=\"orders\"} 1700000000\n"))
        #expect(text.contains("# TYPE sluice_run_duration_seconds gauge\n"))
    }
}
