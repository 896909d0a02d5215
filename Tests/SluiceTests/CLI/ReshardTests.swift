import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Resharding and `summary merge --check` with the real binary: N=4, then N=2, then
/// unsharded, then N=3 over the same data plus new files — every record exactly once in
/// the union of the outputs, and each run processes only the files no ledger holds.
@Suite(.serialized) struct ReshardTests {
    struct Fixture {
        let root: URL
        var input: URL { root.appendingPathComponent("in") }
        var output: URL { root.appendingPathComponent("out") }
        var config: URL { root.appendingPathComponent("p.yaml") }
        var nextID = 0

        init() throws {
            root = TestSupport.temporaryDirectory("sluice-reshard")
            try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
            try TestSupport.write("""
                name: reshard
                input: { path: \(input.path), include: ["**/*.ndjson"], format: ndjson }
                stages:
                  - name: shape
                    select: { id: id, n: n }
                output: { path: \(output.path), format: ndjson, compression: none, layout: merged }
                errors: { path: errors.ndjson }
                """, to: config)
        }

        /// `count` new files of `records` records each, with ids never used before.
        mutating func addFiles(_ count: Int, records: Int, prefix: String) throws {
            for f in 0..<count {
                var text = ""
                for _ in 0..<records {
                    text += "{\"id\":\(nextID),\"n\":\"\(String(repeating: "x", count: 16))\"}\n"
                    nextID += 1
                }
                try TestSupport.write(text, to: input.appendingPathComponent("\(prefix)/part-\(f).ndjson"))
            }
        }

        /// Every output record under the output directory, shard directories included.
        func records() throws -> [String] {
            let walker = FileManager.default.enumerator(atPath: output.path)
            var lines: [String] = []
            while let relative = walker?.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                guard name.hasPrefix("reshard-"), name.hasSuffix(".ndjson"), !name.hasPrefix(".") else { continue }
                let text = try String(contentsOf: output.appendingPathComponent(relative), encoding: .utf8)
                lines += text.split(separator: "\n").map(String.init)
            }
            return lines
        }

        func run(_ extra: [String]) throws -> (code: Int32, summary: RunSummary?, stderr: String) {
            let summaryPath = root.appendingPathComponent("summary-\(UUID().uuidString).json").path
            let result = try CLITests.sluice(["run", config.path, "--progress", "never", "--summary", summaryPath] + extra)
            let summary = try? JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
            return (result.code, summary, result.stderr)
        }

        func runShards(_ n: Int, job: String) throws -> [RunSummary] {
            try (0..<n).map { i in
                let r = try run(["--shard", "\(i)/\(n)", "--job-id", job])
                #expect(r.code == 0, "\(r.stderr)")
                return try #require(r.summary)
            }
        }
    }

    /// ``CLITests/sluice(_:timeout:environment:)`` with environment variables set or removed.
    static func sluice(_ arguments: [String], environment changes: [String: String?]) throws -> CLITests.Outcome {
        try CLITests.sluice(arguments, environment: changes)
    }

    static func expectEachRecordOnce(_ fixture: Fixture, _ label: String) throws {
        let records = try fixture.records()
        let ids = records.compactMap { line -> Int? in
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return object["id"] as? Int
        }
        #expect(ids.count == records.count, "\(label): unparsable output lines")
        #expect(ids.sorted() == Array(0..<fixture.nextID), "\(label): \(ids.count) records for \(fixture.nextID) (duplicates: \(ids.count - Set(ids).count))")
    }

    @Test func changingTheShardCountOrGoingUnshardedNeverReprocessesOrLoses() throws {
        var fixture = try Fixture()
        defer { TestSupport.cleanup(fixture.root) }
        try fixture.addFiles(12, records: 40, prefix: "a")

        let four = try fixture.runShards(4, job: "j4")
        #expect(four.map(\.files.processed) == [3, 3, 3, 3])
        try Self.expectEachRecordOnce(fixture, "N=4")

        try fixture.addFiles(4, records: 40, prefix: "b")
        let two = try fixture.runShards(2, job: "j2")
        #expect(two.map(\.files.processed).reduce(0, +) == 4, "\(two.map(\.files.processed))")
        #expect(two.map(\.files.seen) == [8, 8])   // each shard's half of the whole listing
        try Self.expectEachRecordOnce(fixture, "N=4, then N=2")

        try fixture.addFiles(3, records: 40, prefix: "c")
        let whole = try fixture.run([])
        #expect(whole.code == 0, "\(whole.stderr)")
        #expect(whole.summary?.files.processed == 3 && whole.summary?.files.skipped == 16)
        try Self.expectEachRecordOnce(fixture, "then unsharded")

        // Sharded after unsharded, with one new file: only it is processed.
        try fixture.addFiles(1, records: 40, prefix: "d")
        let three = try fixture.runShards(3, job: "j3")
        #expect(three.map(\.files.processed).reduce(0, +) == 1)
        try Self.expectEachRecordOnce(fixture, "then N=3")

        // Everything is done in some ledger: nobody processes anything.
        for extra in [["--shard", "1/4"], [], ["--shard", "0/5"]] {
            let again = try fixture.run(extra)
            #expect(again.code == 0 && again.summary?.files.processed == 0, "\(extra): \(again.stderr)")
        }
        try Self.expectEachRecordOnce(fixture, "after reruns")
        // --dry-run agrees: nothing to do for any N.
        let dry = try CLITests.sluice(["run", fixture.config.path, "--shard", "1/7", "--dry-run"])
        #expect(dry.code == 0 && dry.stdout.isEmpty, "\(dry.stdout)\(dry.stderr)")
    }

    @Test func aFileInAnotherDirectorysUnfinishedCommitStopsTheRun() throws {
        var fixture = try Fixture()
        defer { TestSupport.cleanup(fixture.root) }
        try fixture.addFiles(2, records: 5, prefix: "a")
        // Shard 0 of 2 finished a file, and its commit stopped after step 1 (pending).
        let peer = fixture.output.appendingPathComponent("shard-0-of-2")
        try FileManager.default.createDirectory(at: peer, withIntermediateDirectories: true)
        let path = "a/part-0.ndjson"
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.input.appendingPathComponent(path).path)
        let size = try #require(attributes[.size] as? Int)
        let mtime = Int(try #require(attributes[.modificationDate] as? Date).timeIntervalSince1970 * 1e9)
        do {
            let ledger = try Ledger(directory: peer.path)
            try ledger.prepare(runID: "crashed", pipeline: "reshard", outputs: ["reshard-crashed.ndjson"],
                               files: [.init(path: path, size: size, mtime: mtime, fingerprint: "0", status: .done)])
        }
        let run = try fixture.run([])
        #expect(run.code == 1)
        #expect(run.stderr.contains("unfinished commit") && run.stderr.contains(path) && run.stderr.contains("shard-0-of-2"), "\(run.stderr)")
        #expect(try fixture.records().isEmpty)
    }

    /// Another shard in the middle of a ledger transaction (it holds the write lock, its
    /// rows are not committed): this run reads the committed state without waiting for
    /// it and without writing there, so it processes the file the other one has not
    /// committed yet — exactly what it would do a moment before.
    @Test func anotherShardsOpenTransactionNeitherBlocksNorLeaks() throws {
        var fixture = try Fixture()
        defer { TestSupport.cleanup(fixture.root) }
        try fixture.addFiles(2, records: 5, prefix: "a")
        let first = try fixture.run(["--shard", "0/2", "--job-id", "j"])
        #expect(first.code == 0 && first.summary?.files.processed == 1, "\(first.stderr)")
        let peer = fixture.output.appendingPathComponent("shard-0-of-2")
        let ledger = try Ledger(directory: peer.path)
        try ledger.database.execute("BEGIN IMMEDIATE")
        // Uncommitted done entries (true sizes and mtimes) for both files: seen, they would make this run skip both.
        for path in ["a/part-0.ndjson", "a/part-1.ndjson"] {
            var info = stat()
            #expect(stat(fixture.input.appendingPathComponent(path).path, &info) == 0)
            let size = Int(info.st_size)
            let mtime = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
            try ledger.database.execute("INSERT OR REPLACE INTO files VALUES ('reshard', '\(path)', \(size), \(mtime), '0', 'x', 'y', 'z')")
        }
        let before = try Data(contentsOf: peer.appendingPathComponent(Ledger.fileName))
        let unsharded = try fixture.run([])
        #expect(unsharded.code == 0, "\(unsharded.stderr)")
        #expect(unsharded.summary?.files.processed == 1 && unsharded.summary?.files.skipped == 1)
        #expect(try Data(contentsOf: peer.appendingPathComponent(Ledger.fileName)) == before)
        try ledger.database.execute("ROLLBACK")
        try Self.expectEachRecordOnce(fixture, "beside an open transaction")
    }

    @Test func mergeCheckNamesMissingStaleAndDuplicateShards() throws {
        var fixture = try Fixture()
        defer { TestSupport.cleanup(fixture.root) }
        try fixture.addFiles(6, records: 10, prefix: "a")
        let dir = fixture.root.appendingPathComponent("summaries")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func shard(_ i: Int, of n: Int, job: String?) throws -> String {
            let path = dir.appendingPathComponent("s\(i)-\(n)-\(job ?? "none").json").path
            // Not from the environment of whoever runs the tests (a Slurm job, say).
            let result = try Self.sluice(["run", fixture.config.path, "--progress", "never", "--shard", "\(i)/\(n)", "--summary", path]
                                         + (job.map { ["--job-id", $0] } ?? []), environment: ["SLURM_ARRAY_JOB_ID": nil])
            #expect(result.code == 0, "\(result.stderr)")
            return path
        }
        let s0 = try shard(0, of: 3, job: "100"), s1 = try shard(1, of: 3, job: "100"), s2 = try shard(2, of: 3, job: "100")
        let ok = try CLITests.sluice(["summary", "merge", "--check", "--job-id", "100", s0, s1, s2])
        #expect(ok.code == 0, "\(ok.stderr)")
        let merged = try JSONDecoder().decode(RunSummary.self, from: Data(ok.stdout.utf8))
        #expect(merged.jobID == "100")
        #expect(merged.shards?.map(\.shard) == ["0/3", "1/3", "2/3"])
        #expect(merged.shards?.map(\.bytesRead).reduce(0, +) == merged.bytes.read)
        #expect(ok.stderr.contains("shard 1/3 of job 100: 2 files"), "\(ok.stderr)")
        #expect(ok.stderr.contains(" s, exit 0"), "\(ok.stderr)")

        let missing = try CLITests.sluice(["summary", "merge", "--check", s0, s2])
        #expect(missing.code == 1)
        #expect(missing.stderr.contains("missing shard 1/3 of job 100"), "\(missing.stderr)")
        // A task of another job (an earlier run's summary) is stale.
        let stale = try shard(1, of: 3, job: "99")
        let withStale = try CLITests.sluice(["summary", "merge", "--check", "--job-id", "100", s0, stale, s2])
        #expect(withStale.code == 1)
        #expect(withStale.stderr.contains("is stale: of job 99, not 100") && withStale.stderr.contains("missing shard 1/3"), "\(withStale.stderr)")
        // Without --job-id the summaries must still agree on one job.
        let mixed = try CLITests.sluice(["summary", "merge", "--check", s0, stale, s2])
        #expect(mixed.code == 1 && mixed.stderr.contains("different jobs: 100, 99"), "\(mixed.stderr)")
        let twice = try CLITests.sluice(["summary", "merge", "--check", s0, s1, s1, s2])
        #expect(twice.code == 1 && twice.stderr.contains("shard 1/3 appears more than once"), "\(twice.stderr)")
        let noJob = try shard(0, of: 3, job: nil)
        let anonymous = try CLITests.sluice(["summary", "merge", "--check", noJob, s1, s2])
        #expect(anonymous.code == 1 && anonymous.stderr.contains("has no job id"), "\(anonymous.stderr)")
        let wrongN = try CLITests.sluice(["summary", "merge", "--check", "--shards", "4", s0, s1, s2])
        #expect(wrongN.code == 1 && wrongN.stderr.contains("is of 3 shards, not 4"), "\(wrongN.stderr)")
        let none = try CLITests.sluice(["summary", "merge", "--check", "--shards", "2", "--job-id", "7"])
        #expect(none.code == 1 && none.stderr.contains("missing shards 0/2, 1/2 of job 7"), "\(none.stderr)")
        // Merging without --check stays lenient (a partial look at a running job).
        #expect(try CLITests.sluice(["summary", "merge", s0, s2]).code == 0)
        // SLURM_ARRAY_JOB_ID is the default job id.
        let slurm = dir.appendingPathComponent("slurm.json").path
        let env = try Self.sluice(["run", fixture.config.path, "--progress", "never", "--shard", "0/3", "--summary", slurm],
                                  environment: ["SLURM_ARRAY_JOB_ID": "4242"])
        #expect(env.code == 0, "\(env.stderr)")
        #expect(try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: slurm))).jobID == "4242")
    }
}
