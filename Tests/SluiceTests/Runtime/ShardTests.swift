import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `--shard I/N` and `sluice summary merge`: N shards together give exactly the records
/// of one run, each file in exactly one shard, and the merged summary adds up.
@Suite(.serialized) struct ShardTests {
    @Test func parsing() {
        #expect(Shard(parsing: "0/4") == Shard(index: 0, count: 4))
        #expect(Shard(parsing: "3/4") == Shard(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] { #expect(Shard(parsing: bad) == nil, "\(bad)") }
        #expect(Shard(index: 2, count: 8).directoryName == "shard-2-of-8")
    }

    /// XXH64(path) mod N, the split before shards were balanced: the peer the greedy
    /// split is measured against.
    static func hashSplit(_ files: [(path: String, size: Int)], count: Int) -> [Int] {
        var bytes = [Int](repeating: 0, count: count)
        for file in files {
            var hash = Fingerprint()
            var path = file.path
            path.withUTF8 { hash.update(UnsafeRawBufferPointer($0)) }
            bytes[Int(hash.finish() % UInt64(count))] += file.size
        }
        return bytes
    }

    static func greedySplit(_ files: [(path: String, size: Int)], count: Int) -> [Int] {
        var bytes = [Int](repeating: 0, count: count)
        for (file, owner) in zip(files, Shard.assign(files, count: count)) { bytes[owner] += file.size }
        return bytes
    }

    @Test func equalFilesSplitEvenlyWhereTheHashDidNot() {
        let files = (0..<40).map { (path: "day-\($0 / 8)/part-\($0).ndjson.gz", size: 1_000) }
        let owners = Shard.assign(files, count: 4)
        #expect((0..<4).map { i in owners.filter { $0 == i }.count } == [10, 10, 10, 10])
        let hashed = Self.hashSplit(files, count: 4).map { $0 / 1_000 }
        #expect(hashed != [10, 10, 10, 10], "the hash split happened to be even: \(hashed)")
        // 8 files over 4 shards: 2 each (the hash gave 1/2/2/3 in issue 13).
        #expect(Self.greedySplit(Array(files.prefix(8)), count: 4) == [2_000, 2_000, 2_000, 2_000])
    }

    @Test func skewedSizesSplitWithinTheLargestFile() {
        // Sizes 1…40 KB, and a heavy tail (a few files much larger than the rest).
        let linear = (0..<40).map { (path: "f\($0)", size: ($0 + 1) * 1_000) }
        let tail = (0..<40).map { (path: "g\($0)", size: $0 % 10 == 0 ? 50_000 : 1_000 + 37 * $0) }
        for files in [linear, tail] {
            let greedy = Self.greedySplit(files, count: 4)
            let largest = files.map(\.size).max() ?? 0
            #expect(greedy.max()! - greedy.min()! <= largest, "\(greedy)")
            #expect(greedy.reduce(0, +) == files.map(\.size).reduce(0, +))
            let hashed = Self.hashSplit(files, count: 4)
            #expect(greedy.max()! <= hashed.max()!, "greedy \(greedy), hash \(hashed)")
        }
        #expect(Self.greedySplit(linear, count: 4) == [205_000, 205_000, 205_000, 205_000])
    }

    @Test func theSplitDependsOnlyOnTheListingAndEveryFileHasOneShard() {
        let files = (0..<300).map { (path: "d\($0 % 7)/p-\($0)", size: ($0 * 7919) % 5_000) }
        let owners = Shard.assign(files, count: 5)
        let shuffled = Array(zip(files, owners)).reversed()
        let again = Shard.assign(shuffled.map(\.0), count: 5)
        #expect(Array(shuffled.map(\.1)) == again)
        #expect(owners.allSatisfy { (0..<5).contains($0) })
        // More shards than files: each file alone, the rest empty.
        #expect(Shard.assign([(path: "a", size: 5), (path: "b", size: 9)], count: 8) == [1, 0])
        #expect(Shard(directoryName: "shard-2-of-8") == Shard(index: 2, count: 8))
        for bad in ["shard-8-of-8", "shard-02-of-8", "shard--1-of-8", "shard-1-of-", "shards-1-of-2", "shard-1-of-2x"] {
            #expect(Shard(directoryName: bad) == nil, "\(bad)")
        }
    }

    static func lines(_ summary: RunSummary) throws -> [String] {
        try summary.outputs.flatMap { path -> [String] in
            let bytes = path.hasSuffix(".gz") ? try TestSupport.gunzip(URL(fileURLWithPath: path)) : TestSupport.read(URL(fileURLWithPath: path))
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    @Test func shardsTogetherGiveExactlyTheRecordsOfOneRun() throws {
        let input = try PipelineRunTests.makeInput(files: 9, recordsPerFile: 300)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-shards")
        defer { TestSupport.cleanup(out) }
        let config = try PipelineRunTests.ordersConfig(workers: 2, queue: 4, batchSize: 64)
        let whole = TestSupport.run(config, input: input, output: out.appendingPathComponent("whole"), runID: "whole")
        #expect(whole.exitCode == 0)

        var shards: [RunSummary] = []
        for i in 0..<3 {
            var options = RunOptions(inputPath: input.path, outputPath: out.appendingPathComponent("sharded").path, runID: "s\(i)")
            options.shard = Shard(index: i, count: 3)
            let summary = PipelineRun(config: config, options: options, logger: TestSupport.logger).run()
            #expect(summary.exitCode == 0)
            #expect(summary.shard == "\(i)/3")
            #expect(summary.outputs.allSatisfy { $0.contains("/sharded/shard-\(i)-of-3/") })
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("sharded/shard-\(i)-of-3/\(Ledger.fileName)").path))
            shards.append(summary)
        }
        #expect(shards.map(\.files.seen).reduce(0, +) == whole.files.seen)
        #expect(shards.allSatisfy { $0.files.seen > 0 })
        let sharded = try shards.flatMap(Self.lines).sorted()
        #expect(sharded == (try Self.lines(whole)).sorted())
        #expect(sharded.count == whole.records.out)

        let merged = try RunSummary.merge(shards)
        #expect(merged.records == whole.records)
        #expect(merged.files == whole.files)
        #expect(merged.mergedRuns == ["s0", "s1", "s2"])
        #expect(merged.outputs.count == 3 && merged.errorReports?.count == 3)
        #expect(merged.stages.map(\.recordsOut) == whole.stages.map(\.recordsOut))
        #expect(merged.exitCode == 0)

        // A second round of the same shard processes nothing: its ledger is its own.
        var again = RunOptions(inputPath: input.path, outputPath: out.appendingPathComponent("sharded").path, runID: "again")
        again.shard = Shard(index: 1, count: 3)
        let second = PipelineRun(config: config, options: again, logger: TestSupport.logger).run()
        #expect(second.files.processed == 0 && second.files.skipped == shards[1].files.seen)
    }

    @Test func mergeRejectsDifferentPipelinesAndKeepsTheWorstExitCode() throws {
        var a = RunSummary(runID: "a", pipeline: "p", startedAt: "2026-11-29T01:00:00.000Z", endedAt: "2026-11-29T01:00:10.000Z",
                           elapsedSeconds: 10, files: .init(seen: 1, processed: 1, failed: 0),
                           records: .init(in: 5, out: 5, filtered: 0, failed: 0, discarded: 0),
                           bytes: .init(read: 1, decoded: 1, written: 1), stages: [], outputs: ["x"], errorReport: "e1",
                           exitCode: 0, failure: nil)
        var b = a
        b.runID = "b"
        b.startedAt = "2026-11-29T00:59:55.000Z"
        b.exitCode = 1
        b.failure = "boom"
        b.shard = "1/2"
        let merged = try RunSummary.merge([a, b])
        #expect(merged.exitCode == 1)
        #expect(merged.elapsedSeconds == 15)
        #expect(merged.records.in == 10)
        #expect(merged.failure == "shard 1/2: boom")
        a.pipeline = "q"
        #expect(throws: RunSummary.MergeError.self) { try RunSummary.merge([a, b]) }
        #expect(throws: RunSummary.MergeError.self) { try RunSummary.merge([]) }
    }

    /// The real binary: two shard runs, then `sluice summary merge` of their summaries.
    @Test func binaryShardRunsAndSummaryMerge() throws {
        let out = TestSupport.temporaryDirectory("sluice-cli-shards")
        defer { TestSupport.cleanup(out) }
        var summaries: [String] = []
        for i in 0..<2 {
            let summary = out.appendingPathComponent("s\(i).json").path
            let result = try CLITests.sluice(["run", "pipelines/orders.yaml", "--output", out.path, "--shard", "\(i)/2", "--summary", summary,
                                                  // One shard can hold most of the bad files: judge the error rate on the merged summary.
                                                  "--set", "errors.max_error_rate=1"])
            // 3 for the shard that holds the fixture's broken file (committed, one file failed).
            #expect(result.code == 0 || result.code == 3, "\(result.stderr)")
            summaries.append(summary)
        }
        let bad = try CLITests.sluice(["run", "pipelines/orders.yaml", "--output", out.path, "--shard", "2/2"])
        #expect(bad.code == 2)
        #expect(bad.stderr.contains("--shard"))
        let merged = try CLITests.sluice(["summary", "merge"] + summaries)
        #expect(merged.code == 0, "\(merged.stderr)")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(merged.stdout.utf8))
        let whole = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: TestSupport.fixture("expected/orders/summary.json")))
        #expect(summary.records == whole.records)
        #expect(summary.files.processed == whole.files.processed)
        #expect(summary.mergedRuns?.count == 2)
    }
}
