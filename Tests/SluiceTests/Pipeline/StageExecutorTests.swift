import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// End-to-end runs of the core-count executor: the output does not depend on how many
/// shared threads there are, and no stage runs more than its `workers` batches at once.
@Suite(.serialized) struct StageExecutorTests {
    static func run(_ config: PipelineConfig, input: URL, output: URL, stageThreads: Int) -> RunSummary {
        var options = RunOptions(inputPath: input.path, outputPath: output.path, runID: "test")
        options.stageThreads = stageThreads
        return PipelineRun(config: config, options: options, logger: TestSupport.logger).run()
    }

    @Test func outputIsByteIdenticalWhateverTheSharedThreads() throws {
        let input = try PipelineRunTests.makeInput(files: 5, recordsPerFile: 1500)
        defer { TestSupport.cleanup(input) }
        var outputs: [[UInt8]] = []
        var reports: [[UInt8]] = []
        for threads in [1, 2, 5] {
            // A fresh config each run: a `dedupe` stage remembers the keys it has seen.
            var config = try PipelineRunTests.ordersConfig(workers: 3, queue: 2, batchSize: 100)
            // An input-order stage between CPU stages: its lane takes batches in sequence.
            config.stages.insert(StageSpec(name: "unique", kind: "dedupe", workers: 3, queue: 1,
                                           stage: try Self.dedupe()), at: 2)
            let out = TestSupport.temporaryDirectory("sluice-out")
            defer { TestSupport.cleanup(out) }
            let summary = Self.run(config, input: input, output: out, stageThreads: threads)
            #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
            outputs.append(TestSupport.read(out.appendingPathComponent("orders-test.ndjson.gz")))
            reports.append(TestSupport.read(out.appendingPathComponent("errors-test.ndjson")))
            for stage in summary.stages where stage.kind != "dedupe" {
                #expect(stage.queueHighWater <= stage.queueCapacity, "\(stage.name)")
            }
            #expect(summary.records.in == 5 * 1500)
        }
        #expect(outputs[0].count > 1000)
        for other in outputs.dropFirst() { #expect(other == outputs[0]) }
        for other in reports.dropFirst() { #expect(other == reports[0]) }
    }

    /// Many files of a few records: each file's last batch carries its ending to the sink
    /// (one hand-off per file), also for a file that fails after its records were framed
    /// and a file without records; the output, the error report and the counts do not
    /// depend on the threads, and an input-order stage still moves from file to file.
    @Test func manySmallFilesCommitFileByFileWhateverTheSharedThreads() throws {
        let input = TestSupport.temporaryDirectory("sluice-small")
        defer { TestSupport.cleanup(input) }
        for f in 0..<60 {
            let text = PipelineRunTests.orderLines(file: f, count: 1 + f % 3)
            let name = String(format: "f%03d.ndjson", f)
            switch f {
            case 17:
                // Truncated gzip: its records are framed, then the file fails.
                let whole = TestSupport.gzip(Array(text.utf8))
                try Data(whole.prefix(whole.count - 6)).write(to: input.appendingPathComponent(name + ".gz"))
            case 23:
                try TestSupport.write("", to: input.appendingPathComponent(name))
            case let f where f % 2 == 0:
                try Data(TestSupport.gzip(Array(text.utf8))).write(to: input.appendingPathComponent(name + ".gz"))
            default:
                try TestSupport.write(text, to: input.appendingPathComponent(name))
            }
        }
        var outputs: [[UInt8]] = []
        var reports: [[UInt8]] = []
        for (threads, readers) in [(1, 1), (2, 2), (5, 3)] {
            var config = try PipelineRunTests.ordersConfig(workers: 2, queue: 1, batchSize: 2, readers: readers)
            config.stages.insert(StageSpec(name: "unique", kind: "dedupe", workers: 2, queue: 1, stage: try Self.dedupe()), at: 1)
            let out = TestSupport.temporaryDirectory("sluice-out")
            defer { TestSupport.cleanup(out) }
            let summary = Self.run(config, input: input, output: out, stageThreads: threads)
            #expect(summary.failure == nil, "\(summary.failure ?? "")")   // committed, one file failed
            #expect(summary.files.processed == 59 && summary.files.failed == 1)
            outputs.append(TestSupport.read(out.appendingPathComponent("orders-test.ndjson.gz")))
            let report = TestSupport.read(out.appendingPathComponent("errors-test.ndjson"))
            reports.append(report)
            #expect(String(decoding: report, as: UTF8.self).contains("f017.ndjson.gz"))
        }
        #expect(outputs[0].count > 100)
        for other in outputs.dropFirst() { #expect(other == outputs[0]) }
        for other in reports.dropFirst() { #expect(other == reports[0]) }
    }

    @Test func aStageNeverRunsMoreThanItsWorkersAtOnce() throws {
        let input = try PipelineRunTests.makeInput(files: 4, recordsPerFile: 1000)
        defer { TestSupport.cleanup(input) }
        for workers in [1, 2] {
            let out = TestSupport.temporaryDirectory("sluice-out")
            defer { TestSupport.cleanup(out) }
            let probe = ConcurrencyProbe()
            var config = try PipelineRunTests.ordersConfig(workers: 4, queue: 4, batchSize: 50, gzip: false)
            config.stages.insert(StageSpec(name: "probe", kind: "test-probe", workers: workers, queue: 2,
                                           stage: ProbeStage(probe: probe)), at: 1)
            let summary = Self.run(config, input: input, output: out, stageThreads: 4)
            #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
            #expect(probe.calls == 80, "4 files × 1000 records in batches of 50")
            #expect(probe.mostAtOnce >= 1 && probe.mostAtOnce <= workers)
        }
    }

    /// The readers run their batches through the CPU stages themselves: the threads that
    /// run stage work are the readers and the executor's own shared threads, never more
    /// than the cores asked for (2 readers on 2: the readers alone; 1 reader on 2: it and
    /// one shared thread).
    @Test func theRunStartsNoMoreSharedThreadsThanAsked() throws {
        let input = try PipelineRunTests.makeInput(files: 2, recordsPerFile: 500)
        defer { TestSupport.cleanup(input) }
        for (readers, allowed) in [(2, ["sluice-read-0", "sluice-read-1"]), (1, ["sluice-read-0", "sluice-cpu-0"])] {
            let out = TestSupport.temporaryDirectory("sluice-out")
            defer { TestSupport.cleanup(out) }
            let probe = ConcurrencyProbe()
            var config = try PipelineRunTests.ordersConfig(workers: 8, queue: 4, batchSize: 25, readers: readers, gzip: false)
            config.stages.insert(StageSpec(name: "probe", kind: "test-probe", workers: 8, queue: 4,
                                           stage: ProbeStage(probe: probe)), at: 0)
            let summary = Self.run(config, input: input, output: out, stageThreads: 2)
            #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
            #expect(probe.calls == 40)
            #expect(probe.threadNames.isSubset(of: Set(allowed)), "\(probe.threadNames)")
            #expect(probe.mostAtOnce <= 2)
            #expect(summary.stageThreads == 2)
        }
    }

    /// With a stage that blocks its thread (a `command` waiting on its child), readers only
    /// read: the CPU stages run on the shared threads, which a blocking stage's threads
    /// hand batches to (a reader waiting for a ticket would not see those).
    @Test func readersOnlyReadWhenAStageBlocksItsThread() throws {
        let input = try PipelineRunTests.makeInput(files: 3, recordsPerFile: 400)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        let cpu = ConcurrencyProbe(), blocking = ConcurrencyProbe()
        var config = try PipelineRunTests.ordersConfig(workers: 2, queue: 2, batchSize: 25, gzip: false)
        config.stages.insert(StageSpec(name: "wait", kind: "test-probe", workers: 2, queue: 2,
                                       stage: ProbeStage(probe: blocking, blocks: true)), at: 0)
        config.stages.insert(StageSpec(name: "probe", kind: "test-probe", workers: 2, queue: 2,
                                       stage: ProbeStage(probe: cpu)), at: 1)
        let summary = Self.run(config, input: input, output: out, stageThreads: 2)
        #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
        #expect(cpu.calls == 48 && blocking.calls == 48)
        #expect(cpu.threadNames.allSatisfy { $0.hasPrefix("sluice-cpu-") }, "\(cpu.threadNames)")
        #expect(blocking.threadNames.allSatisfy { $0.hasPrefix("sluice-0-") }, "\(blocking.threadNames)")
    }

    /// Readers that run stage work never deadlock and never change the output: tiny
    /// batches, one-slot queues, an input-order stage, a small reorder room, more readers
    /// than cores and fewer, many files of uneven sizes.
    @Test func readersThatRunStagesGiveTheSameOutputAnyHow() throws {
        let input = TestSupport.temporaryDirectory("sluice-uneven")
        defer { TestSupport.cleanup(input) }
        for f in 0..<24 {
            let text = PipelineRunTests.orderLines(file: f, count: [1, 400, 3, 90, 1200, 0][f % 6])
            try Data(TestSupport.gzip(Array(text.utf8))).write(to: input.appendingPathComponent(String(format: "f%03d.ndjson.gz", f)))
        }
        var outputs: [[UInt8]] = []
        var reports: [[UInt8]] = []
        for (threads, readers, batch) in [(1, 1, 7), (1, 3, 5), (2, 2, 3), (2, 4, 11), (3, 2, 1)] {
            // Plain output: a gzip member per batch would differ with the batch size.
            var config = try PipelineRunTests.ordersConfig(workers: 2, queue: 1, batchSize: batch, readers: readers, gzip: false)
            config.stages.insert(StageSpec(name: "unique", kind: "dedupe", workers: 1, queue: 1, stage: try Self.dedupe()), at: 1)
            let out = TestSupport.temporaryDirectory("sluice-out")
            defer { TestSupport.cleanup(out) }
            let summary = Self.run(config, input: input, output: out, stageThreads: threads)
            #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
            #expect(summary.files.processed == 24)
            outputs.append(TestSupport.read(out.appendingPathComponent("orders-test.ndjson")))
            reports.append(TestSupport.read(out.appendingPathComponent("errors-test.ndjson")))
        }
        #expect(outputs[0].count > 1000 && reports[0].count > 100)
        #expect(outputs.allSatisfy { $0 == outputs[0] }, "outputs differ: \(outputs.map(\.count)) bytes")
        #expect(reports.allSatisfy { $0 == reports[0] }, "error reports differ: \(reports.map(\.count)) bytes")
    }

    static func dedupe() throws -> any Stage {
        let config = try PipelineConfig.parse(yaml: """
            name: d
            input: { path: unused }
            stages:
              - { name: unique, dedupe: { key: id } }
            output: { path: unused }
            """)
        return config.stages[0].stage
    }
}

/// Counts the calls in progress at once, and which threads made them.
final class ConcurrencyProbe: Sendable {
    private struct State {
        var now = 0
        var most = 0
        var calls = 0
        var names: Set<String> = []
    }

    private let state = LockedBox(State())

    func enter() {
        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        state.withLock {
            $0.now += 1
            $0.calls += 1
            $0.most = max($0.most, $0.now)
            $0.names.insert(name)
        }
    }

    func leave() { state.withLock { $0.now -= 1 } }

    var mostAtOnce: Int { state.withLock { $0.most } }
    var calls: Int { state.withLock { $0.calls } }
    var threadNames: Set<String> { state.withLock { $0.names } }
}

/// Passes records through, holding each batch for a moment so that overlaps would show.
struct ProbeStage: Stage {
    let probe: ConcurrencyProbe
    /// Runs as a blocking stage (on its own threads), as a `command` does.
    var blocks = false
    var needsTape: Bool { false }
    var blocksThread: Bool { blocks }
    func process(_ batch: inout Batch, context: StageContext) {
        probe.enter()
        usleep(500)
        probe.leave()
    }
}
