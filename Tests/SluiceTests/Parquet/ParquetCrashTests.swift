import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `kill -9` in the middle of a Parquet run (after its first input file, and between
/// the renames of its outputs), then a rerun: exactly one run's rows, no temporary file.
@Suite(.serialized, .enabled(if: ParquetReaders.available, ParquetReaders.skipNote))
struct ParquetCrashTests {
    typealias Child = CronTests.Child

    @Test(arguments: ["after-file", "between-renames"])
    func killNineThenRerunGivesOneRunsRows(point: String) throws {
        let dir = TestSupport.temporaryDirectory("sluice-parquet-crash")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        for f in 0..<6 {
            let lines = (0..<50).map { "{\"id\":\(f * 50 + $0),\"country\":\"\(["DE", "FR"][$0 % 2])\"}" }
            try TestSupport.write(lines.joined(separator: "\n") + "\n", to: input.appendingPathComponent("f\(f).ndjson"))
        }
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: c
            input: { path: \(input.path), readers: 1 }
            batch_size: 16
            output:
              path: \(out.path)
              format: parquet
              layout: partitioned
              partition_by: [country]
              parquet: { row_group_rows: 20, schema: [{ name: id, type: int64, nullable: false }] }
            """, to: config)
        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path], in: dir, environment: ["SLUICE_TEST_PAUSE_AT": point, "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(CronTests.waitFor(marker), "never reached \(point)")
        kill(run.process.processIdentifier, SIGKILL)
        _ = run.wait()

        let rerun = try Child(["run", config.path], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        #expect(Ledger.temporaryFiles(under: out.path).isEmpty)
        var files: [String] = []
        let walker = FileManager.default.enumerator(atPath: out.path)
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(".parquet") && !(relative as NSString).lastPathComponent.hasPrefix(".") { files.append(out.appendingPathComponent(relative).path) }
        }
        let ndjson = dir.appendingPathComponent("expected.ndjson")
        var expected = ""
        for f in 0..<6 { for r in 0..<50 { expected += "{\"id\":\(f * 50 + r),\"country\":\"\(["DE", "FR"][r % 2])\"}\n" } }
        try TestSupport.write(expected, to: ndjson)
        _ = try ParquetReaders.check(["glob": out.path + "/**/*.parquet", "ndjson": [ndjson.path], "hive": ["country"], "sort_by": "id",
                                      "columns": [["name": "id", "type": "int64"]], "readers": ["pyarrow", "duckdb", "polars"]])
        #expect(!files.isEmpty)
    }
}
