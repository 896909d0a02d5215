import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// End-to-end runs of the runtime: determinism, backpressure, all-or-nothing files,
/// thresholds, cancellation.
@Suite(.serialized) struct PipelineRunTests {
    /// Deterministic NDJSON order lines with a sprinkling of bad ones.
    static func orderLines(file: Int, count: Int) -> String {
        var lines: [String] = []
        for i in 0..<count {
            let id = file * 100_000 + i
            switch i % 97 {
            case 13: lines.append("{\"id\": \(id), \"status\": \"paid\", \"total\": ")          // not JSON
            case 41: lines.append("{\"id\": \"\(id)\", \"status\": \"paid\", \"total\": 1}")  // id not int
            case 77: lines.append("{\"id\": \(id), \"status\": \"paid\", \"items\": []}")      // no total
            default:
                let status = i % 10 == 3 ? "cancelled" : "paid"
                lines.append("{\"id\":\(id),\"ts\":\"2026-11-0\(1 + i % 9)T00:00:00Z\",\"status\":\"\(status)\",\"customer\":{\"id\":\"c-\(i % 37)\",\"country\":\"DE\"},\"items\":[{\"sku\":\"S\(i)\",\"price\":\(i % 50).5}],\"total\":\(i % 300).25}")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A directory of gzip and plain NDJSON files.
    static func makeInput(files: Int = 6, recordsPerFile: Int = 3000) throws -> URL {
        let dir = TestSupport.temporaryDirectory("sluice-in")
        for f in 0..<files {
            let text = orderLines(file: f, count: recordsPerFile)
            if f % 2 == 0 {
                try Data(TestSupport.gzip(Array(text.utf8))).write(to: dir.appendingPathComponent("part-\(f).ndjson.gz"))
            } else {
                try TestSupport.write(text, to: dir.appendingPathComponent("sub/part-\(f).ndjson"))
            }
        }
        return dir
    }

    static func ordersConfig(workers: Int, queue: Int, batchSize: Int = 256, readers: Int = 2, gzip: Bool = true) throws -> PipelineConfig {
        try PipelineConfig.parse(yaml: """
            name: orders
            input: { path: unused, format: ndjson, readers: \(readers) }
            batch_size: \(batchSize)
            stages:
              - name: drop-cancelled
                filter: 'status != "cancelled"'
                workers: \(workers)
                queue: \(queue)
              - name: check
                validate: { required: [id, total], types: { id: int, total: number } }
                workers: \(workers)
                queue: \(queue)
              - name: shape
                select: { id: id, country: customer.country, total_cents: 'round(total * 100)', n: 'len(items)' }
                workers: \(workers)
                queue: \(queue)
            output: { path: unused, compression: \(gzip ? "gzip" : "none"), level: 1 }
            """)
    }

    @Test func outputIsByteIdenticalWhateverTheWorkersAndQueues() throws {
        let input = try Self.makeInput()
        defer { TestSupport.cleanup(input) }
        var outputs: [[UInt8]] = []
        var reports: [[UInt8]] = []
        for (workers, queue, readers) in [(1, 1, 1), (4, 64, 2), (8, 1, 3), (2, 8, 4)] {
            let out = TestSupport.temporaryDirectory("sluice-out")
            defer { TestSupport.cleanup(out) }
            let summary = TestSupport.run(try Self.ordersConfig(workers: workers, queue: queue, readers: readers), input: input, output: out)
            #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
            outputs.append(TestSupport.read(out.appendingPathComponent("orders-test.ndjson.gz")))
            reports.append(TestSupport.read(out.appendingPathComponent("errors-test.ndjson")))
            let r = summary.records
            #expect(r.in == 6 * 3000)
            #expect(r.in == r.out + r.filtered + r.failed + r.discarded)
        }
        #expect(outputs[0].count > 1000)
        for other in outputs.dropFirst() { #expect(other == outputs[0]) }
        for other in reports.dropFirst() { #expect(other == reports[0]) }
    }

    @Test func slowStageWithQueueOfOneKeepsEveryQueueWithinCapacity() throws {
        let input = try Self.makeInput(files: 4, recordsPerFile: 2000)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        var config = try Self.ordersConfig(workers: 2, queue: 1, batchSize: 64, gzip: false)
        config.stages.insert(StageSpec(name: "slow", kind: "test-slow", workers: 1, queue: 1, stage: SlowStage(microseconds: 300)), at: 1)
        let summary = TestSupport.run(config, input: input, output: out)
        #expect(summary.exitCode == 0)
        for stage in summary.stages {
            #expect(stage.queueHighWater <= stage.queueCapacity, "\(stage.name)")
        }
        // The readers fill the first queue and the slow stage's queue backs up; stages
        // after it get each batch handed over on the thread that finished it (fusion),
        // so their queues may never hold one.
        #expect(summary.stages[0].queueHighWater == 1)
        #expect(summary.stages[1].queueHighWater == 1, "the slow stage's queue is full")
        #expect(summary.records.in == 8000)
    }

    @Test func aFileThatFailsMidwayContributesNothing() throws {
        let input = try Self.makeInput(files: 3, recordsPerFile: 3000)
        defer { TestSupport.cleanup(input) }
        // Truncate the gzip file in the middle: its first batches decode, then it fails.
        let victim = input.appendingPathComponent("part-2.ndjson.gz")
        let bytes = TestSupport.read(victim)
        try Data(bytes[0..<(bytes.count * 3 / 4)]).write(to: victim)
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(try Self.ordersConfig(workers: 2, queue: 2, gzip: false), input: input, output: out)
        #expect(summary.exitCode == 0)
        #expect(summary.files.failed == 1)
        #expect(summary.files.processed == 2)
        #expect(summary.records.discarded > 0)
        let text = String(decoding: TestSupport.read(out.appendingPathComponent("orders-test.ndjson")), as: UTF8.self)
        #expect(text.contains("\"id\":100005,"))   // file 1 (ids from 100000) is in
        #expect(!text.contains("\"id\":200005,"))  // file 2 (ids from 200000) is not
        let report = String(decoding: TestSupport.read(out.appendingPathComponent("errors-test.ndjson")), as: UTF8.self)
        let fileLines = report.split(separator: "\n").filter { $0.contains("part-2.ndjson.gz") }
        #expect(fileLines.count == 1)
        #expect(fileLines.first?.contains("\"kind\":\"io\"") == true)
        #expect(fileLines.first?.contains("\"discarded\":") == true)
    }

    @Test func fifosLinkLoopsAndOversizedRecordsBecomeErrorLinesNotHangs() throws {
        let input = try Self.makeInput(files: 2, recordsPerFile: 100)
        defer { TestSupport.cleanup(input) }
        #expect(mkfifo(input.appendingPathComponent("pipe.ndjson").path, 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: input.appendingPathComponent("sub/loop").path, withDestinationPath: "..")
        let long = "{\"id\": 1, \"pad\": \"" + String(repeating: "x", count: 5000) + "\"}\n"
        try TestSupport.write("{\"id\": 0, \"total\": 1}\n" + long + "{\"id\": 2, \"total\": 1}\n", to: input.appendingPathComponent("z-long.ndjson"))
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        var config = try Self.ordersConfig(workers: 1, queue: 1, gzip: false)
        config.input.maxRecordBytes = 1024
        config.stages = []
        let summary = TestSupport.run(config, input: input, output: out)
        #expect(summary.exitCode == 0)
        let report = String(decoding: TestSupport.read(out.appendingPathComponent("errors-test.ndjson")), as: UTF8.self)
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("\"file\":\"pipe.ndjson\"") && $0.contains("\"kind\":\"io\"") }, "\(report)")
        #expect(lines.contains { $0.contains("\"file\":\"sub/loop\"") && $0.contains("\"kind\":\"io\"") }, "\(report)")
        #expect(lines.contains { $0.contains("\"file\":\"z-long.ndjson\"") && $0.contains("\"kind\":\"limit\"") && $0.contains("\"line\":2") }, "\(report)")
        let output = String(decoding: TestSupport.read(out.appendingPathComponent("orders-test.ndjson")), as: UTF8.self)
        #expect(output.hasSuffix("{\"id\": 0, \"total\": 1}\n{\"id\": 2, \"total\": 1}\n"))
    }

    @Test func errorThresholdMakesTheRunExitOne() throws {
        let input = try Self.makeInput(files: 1, recordsPerFile: 500)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        var config = try Self.ordersConfig(workers: 1, queue: 1)
        config.errors.maxErrors = 3
        let summary = TestSupport.run(config, input: input, output: out)
        #expect(summary.exitCode == 1)
        #expect(summary.failure?.contains("max_errors") == true)
        // Nothing committed: no output, no file done; the report and summary kept under failed names.
        #expect(summary.outputs.isEmpty)
        #expect(summary.errorReport.hasSuffix("errors-test.failed.ndjson"))
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(!names.contains("orders-test.ndjson.gz") && !names.contains("errors-test.ndjson"), "\(names)")
        #expect(names.contains("errors-test.failed.ndjson") && names.contains("orders-test.failed-summary.json"), "\(names)")
        #expect(!names.contains { $0.hasSuffix(".summary.json") }, "\(names)")
        config.errors.maxErrors = nil
        config.errors.maxErrorRate = 0.5
        let again = TestSupport.run(config, input: input, output: out, runID: "again")
        #expect(again.exitCode == 0)
        #expect(again.files.processed == 1, "the withheld run marked nothing done")
    }

    @Test func onThresholdCommitKeepsCommittingPastTheThreshold() throws {
        let input = try Self.makeInput(files: 1, recordsPerFile: 500)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        var config = try Self.ordersConfig(workers: 1, queue: 1)
        config.errors.maxErrors = 3
        config.errors.onThreshold = .commit
        let summary = TestSupport.run(config, input: input, output: out)
        #expect(summary.exitCode == 1)
        #expect(!summary.outputs.isEmpty)   // committed anyway
        config.errors.maxErrors = nil
        #expect(TestSupport.run(config, input: input, output: out, runID: "again").files.processed == 0)
    }

    @Test func cancellationStopsPromptlyAndLeavesNoThreads() throws {
        let input = try Self.makeInput(files: 8, recordsPerFile: 3000)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-out")
        defer { TestSupport.cleanup(out) }
        var config = try Self.ordersConfig(workers: 2, queue: 1, batchSize: 32)
        config.stages.append(StageSpec(name: "slow", kind: "test-slow", workers: 2, queue: 1, stage: SlowStage(microseconds: 2000)))
        let run = PipelineRun(config: config, options: RunOptions(inputPath: input.path, outputPath: out.path, runID: "c"), logger: TestSupport.logger)
        let box = SummaryBox()
        let runner = WorkerThread(name: "test-runner") { box.value = run.run() }
        // Cancel once the run is under way: wait (bounded) for its threads rather than a
        // fixed time, which a loaded machine can outlast before the run starts any.
        var started = TestSupport.sluiceThreadCount() > 0
        for _ in 0..<1000 where !started {
            usleep(10_000)
            started = TestSupport.sluiceThreadCount() > 0
        }
        #expect(started)
        usleep(50_000)
        run.cancel(reason: "test stop")
        runner.join()
        // Other suites run pipelines in this process at the same time, and their threads
        // carry the same names: wait (bounded) for the count to fall to zero rather than
        // read it once.
        var remaining = TestSupport.sluiceThreadCount()
        for _ in 0..<2000 where remaining > 0 {
            usleep(10_000)
            remaining = TestSupport.sluiceThreadCount()
        }
        #expect(remaining == 0)
        let summary = try #require(box.value)
        #expect(summary.exitCode == 1)
        #expect(summary.failure == "test stop")
        // Nothing half-written is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains(".tmp-") || $0.hasSuffix(".ndjson.gz") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}

final class SummaryBox: Sendable {
    private let box = LockedBox<RunSummary?>(nil)
    var value: RunSummary? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}

/// A stage that takes its time: for backpressure and cancellation tests.
struct SlowStage: Stage {
    let microseconds: UInt32
    var needsTape: Bool { false }
    func process(_ batch: inout Batch, context: StageContext) {
        usleep(microseconds)
    }
}
