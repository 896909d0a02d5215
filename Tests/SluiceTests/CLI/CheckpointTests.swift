import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `commit_every` with the real binary: a `kill -9` late in a run loses only the files
/// since the last checkpoint, the rerun does only the unfinished files, and the committed
/// records and error lines are those of one clean run.
@Suite(.serialized) struct CheckpointTests {
    typealias Child = CronTests.Child

    /// CronTests' 30 files and validate stage, with checkpoints.
    static func makeConfig(_ dir: URL, input: URL, commitEvery: String, readers: Int = 2, workers: Int = 1) throws -> URL {
        let config = dir.appendingPathComponent("ck-\(readers)-\(workers).yaml")
        try TestSupport.write("""
            name: t
            input: { path: \(input.path), readers: \(readers) }
            stages:
              - validate: { required: [id, v] }
                workers: \(workers)
                queue: 1
            output: { path: \(dir.appendingPathComponent("unused").path) }
            commit_every: \(commitEvery)
            """, to: config)
        return config
    }

    static func names(_ out: URL, prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".ndjson") }.sorted()
    }

    /// The contents of the `prefix` files in name order (checkpoint order).
    static func parts(_ out: URL, prefix: String) -> [[UInt8]] {
        names(out, prefix: prefix).map { TestSupport.read(out.appendingPathComponent($0)) }
    }

    static func summary(_ path: URL) throws -> RunSummary {
        try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: path))
    }

    /// Killed after the 6th checkpoint (24 of 30 files committed) or inside the first one
    /// (at each step of the commit protocol): the rerun processes only what no
    /// checkpoint committed, and the total is one clean run.
    @Test(arguments: ["after-checkpoint-6", "before-rename", "between-renames", "after-rename", "after-ledger"])
    func killNineLateLosesOnlyTheFilesSinceTheLastCheckpoint(point: String) throws {
        let dir = TestSupport.temporaryDirectory("sluice-ckpt")
        defer { TestSupport.cleanup(dir) }
        let input = try CronTests.makeInput(dir)
        let config = try Self.makeConfig(dir, input: input, commitEvery: "{ files: 4 }")
        let cleanOut = dir.appendingPathComponent("clean")
        let cleanRun = try Child(["run", config.path, "--output", cleanOut.path], in: dir)
        #expect(cleanRun.wait() == 0, "\(cleanRun.errorText)")
        let clean = CronTests.committed(cleanOut)
        #expect(clean.records.count == 90 && clean.errors.count == 6)
        #expect(Self.names(cleanOut, prefix: "t-").count == 8, "30 files in checkpoints of 4: 8 parts")

        let out = dir.appendingPathComponent("out")
        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path, "--output", out.path], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": point, "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(CronTests.waitFor(marker), "never reached \(point)")
        kill(run.process.processIdentifier, SIGKILL)
        _ = run.wait()
        let committedAtKill = point == "after-checkpoint-6" ? 24 : 4

        let summaryPath = dir.appendingPathComponent("rerun.json")
        let rerun = try Child(["run", config.path, "--output", out.path, "--summary", summaryPath.path], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        let summary = try Self.summary(summaryPath)
        #expect(summary.files.processed == 30 - committedAtKill && summary.files.skipped == committedAtKill,
                "after kill -9 at \(point): \(summary.files)")
        #expect(CronTests.temporaryFiles(out).isEmpty)
        #expect(CronTests.committed(out) == clean, "after kill -9 at \(point): exactly one run's records and error lines")
        #expect(try CronTests.doneFiles(out) == 30)
    }

    /// A schedule by file count cuts the same parts, byte for byte, whatever the readers
    /// and workers.
    @Test func partsByFileCountDoNotDependOnWorkerCounts() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ckpt")
        defer { TestSupport.cleanup(dir) }
        let input = try CronTests.makeInput(dir)
        var results: [([[UInt8]], [[UInt8]])] = []
        for (readers, workers) in [(1, 1), (3, 4)] {
            let config = try Self.makeConfig(dir, input: input, commitEvery: "{ files: 7 }", readers: readers, workers: workers)
            let out = dir.appendingPathComponent("out-\(readers)-\(workers)")
            let run = try Child(["run", config.path, "--output", out.path], in: dir)
            #expect(run.wait() == 0, "\(run.errorText)")
            results.append((Self.parts(out, prefix: "t-"), Self.parts(out, prefix: "errors-")))
        }
        #expect(results[0].0.count == 5 && results[0].1.count == 5, "30 files in checkpoints of 7: 5 parts")
        #expect(results[0].0 == results[1].0)
        #expect(results[0].1 == results[1].1)
    }

    /// A time schedule (here: every file, `0s`) commits as it goes; the parts may fall
    /// anywhere, the records are one run's.
    @Test func aTimeScheduleCommitsAsItGoes() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ckpt")
        defer { TestSupport.cleanup(dir) }
        let input = try CronTests.makeInput(dir)
        let plain = try CronTests.makeConfig(dir, input: input)
        let cleanOut = dir.appendingPathComponent("clean")
        #expect(try Child(["run", plain.path, "--output", cleanOut.path], in: dir).wait() == 0)
        let config = try Self.makeConfig(dir, input: input, commitEvery: "0s")
        let out = dir.appendingPathComponent("out")
        let summaryPath = dir.appendingPathComponent("s.json")
        let run = try Child(["run", config.path, "--output", out.path, "--summary", summaryPath.path], in: dir)
        #expect(run.wait() == 0, "\(run.errorText)")
        #expect(Self.names(out, prefix: "t-").count == 30)
        #expect(CronTests.committed(out) == CronTests.committed(cleanOut))
        let summary = try Self.summary(summaryPath)
        #expect(summary.outputs.count == 30 && summary.files.processed == 30, "\(summary.outputs)")
        #expect(try CronTests.doneFiles(out) == 30)
    }

    @Test func commitEveryIsADurationOrAMapping() throws {
        func parse(_ value: String) throws -> PipelineConfig {
            try PipelineConfig.parse(yaml: "name: p\ninput: { path: in }\noutput: { path: out }\ncommit_every: \(value)\n")
        }
        #expect(try parse("5m").commitEvery == CommitEvery(interval: 300))
        #expect(try parse("{ interval: 10s, files: 100 }").commitEvery == CommitEvery(interval: 10, files: 100))
        #expect(try parse("{ files: 3 }").commitEvery == CommitEvery(files: 3))
        #expect(throws: (any Error).self) { try parse("{ files: 0 }") }
        #expect(throws: (any Error).self) { try parse("{ every: 3 }") }
        #expect(try PipelineConfig.parse(yaml: "name: p\ninput: { path: in }\noutput: { path: out }\n").commitEvery == nil)
    }

    /// A run that fails later (a stage's `on_error: fail`) keeps what its checkpoints committed.
    @Test func aRunThatFailsAfterACheckpointKeepsWhatItCommitted() throws {
        let dir = TestSupport.temporaryDirectory("sluice-ckpt")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        for f in 0..<20 {
            var text = ""
            for r in 0..<10 { text += f == 12 && r == 3 ? "{\"id\":\(f * 100 + r)}\n" : "{\"id\":\(f * 100 + r),\"v\":\(r)}\n" }
            try TestSupport.write(text, to: input.appendingPathComponent(String(format: "f%02d.ndjson", f)))
        }
        let out = dir.appendingPathComponent("out")
        func config(_ policy: String) throws -> URL {
            let url = dir.appendingPathComponent("\(policy).yaml")
            try TestSupport.write("""
                name: t
                input: { path: \(input.path), readers: 2 }
                stages:
                  - validate: { required: [id, v] }
                    on_error: \(policy)
                output: { path: \(out.path) }
                commit_every: { files: 5 }
                """, to: url)
            return url
        }
        let failed = try Child(["run", try config("fail").path], in: dir)
        #expect(failed.wait() == 1, "\(failed.errorText)")
        #expect(failed.errorText.contains("10 files committed at checkpoints stay done"), "\(failed.errorText)")
        #expect(CronTests.committed(out).records.count == 100)
        #expect(try CronTests.doneFiles(out) == 10)
        #expect(CronTests.temporaryFiles(out).isEmpty)
        let summaryPath = dir.appendingPathComponent("s.json")
        let rerun = try Child(["run", try config("report").path, "--summary", summaryPath.path], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        #expect(try Self.summary(summaryPath).files.processed == 10)
        let committed = CronTests.committed(out)
        #expect(committed.records.count == 199 && Set(committed.records).count == 199 && committed.errors.count == 1)
    }
}
