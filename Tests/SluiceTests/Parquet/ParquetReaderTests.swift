import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Runs `parquet_readers.py` (beside this file) with a timeout.
enum ParquetReaders {
    /// `Tests/parquet_readers.py` (outside the test target: it is not a Swift source).
    static let script = TestSupport.packageRoot.appendingPathComponent("Tests/parquet_readers.py")

    static func python(_ arguments: [String], timeout: Int = 120) -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", String(timeout), "python3", script.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        do { try process.run() } catch { return (127, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The reader modules that import (`pip install pyarrow duckdb polars`).
    static let modules: [String] = {
        let result = python(["modules"], timeout: 60)
        return result.code == 0 ? result.output.split(whereSeparator: \.isWhitespace).map(String.init) : []
    }()

    static var available: Bool { modules.count == 3 }
    /// Set by `.ci/run`: then missing readers fail instead of skipping.
    static var required: Bool { ProcessInfo.processInfo.environment["SLUICE_REQUIRE_PARQUET_READERS"] == "1" }
    static let skipNote: Comment = "python3 with pyarrow, duckdb and polars is not installed (pip install pyarrow duckdb polars); these Parquet reader tests are skipped"

    /// Checks `spec` with every reader; returns the script's output.
    static func check(_ spec: [String: Any]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-parquet-spec-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: spec).write(to: file)
        let result = python(["check", file.path])
        #expect(result.code == 0, "\(result.output)")
        return result.output
    }

    static func metadata(_ path: String) throws -> [String: Any] {
        let result = python(["metadata", path])
        #expect(result.code == 0, "\(result.output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
    }
}

@Suite struct ParquetReaderRequirementTests {
    /// Under `.ci/run` the readers must be there: a skip there would hide the real check.
    @Test func readersArePresentWhenRequired() {
        if ParquetReaders.required {
            #expect(ParquetReaders.available, "SLUICE_REQUIRE_PARQUET_READERS=1 but only [\(ParquetReaders.modules.joined(separator: ", "))] import")
        } else if !ParquetReaders.available {
            print("note: \(ParquetReaders.skipNote)")
        }
    }
}

/// Sluice's Parquet read back with PyArrow, DuckDB and Polars: every row and every type
/// compared with the NDJSON output of the same pipeline over the same input.
@Suite(.enabled(if: ParquetReaders.available, ParquetReaders.skipNote))
struct ParquetReaderTests {
    /// The schema under test (also handed to the Python oracle).
    static var columns: [[String: Any]] { [
        ["name": "id", "type": "int64", "nullable": false],
        ["name": "name", "type": "string"],
        ["name": "ok", "type": "bool"],
        ["name": "score", "type": "double"],
        ["name": "small", "type": "int32"],
        ["name": "price", "type": "decimal(10,2)"],
        ["name": "wide", "type": "decimal(30,4)"],
        ["name": "at", "type": "timestamp(ms)"],
        ["name": "local", "type": "timestamp(us, local)"],
        ["name": "day", "type": "date"],
        ["name": "tags", "type": "list<string>"],
        ["name": "nums", "type": "list<int64>"],
        ["name": "addr", "type": "struct", "fields": [["name": "city", "type": "string"], ["name": "zip", "type": "int32"]]],
        ["name": "blob", "type": "binary"],
        ["name": "country", "type": "string"],
    ] }

    static func yamlSchema(_ columns: [[String: Any]] = columns) -> String {
        columns.map { c in
            var parts = ["name: \(c["name"]!)", "type: \"\(c["type"]!)\""]
            if let n = c["nullable"] as? Bool { parts.append("nullable: \(n)") }
            if let fields = c["fields"] as? [[String: String]] {
                parts.append("fields: [" + fields.map { "{ name: \($0["name"]!), type: \"\($0["type"]!)\" }" }.joined(separator: ", ") + "]")
            }
            return "      - { " + parts.joined(separator: ", ") + " }"
        }.joined(separator: "\n")
    }

    /// Deterministic records with nulls, missing fields, unicode, lists with null
    /// elements, decimals as numbers and strings, timestamps with offsets.
    static func record(_ i: Int) -> String {
        let names = ["plain", "Ünïcödé ✓", "日本語", "emoji 🎉", "quote \\\"q\\\"", "tab\\tnew\\nline", ""]
        var fields: [String] = ["\"id\":\(i)"]
        if i % 7 != 3 { fields.append("\"name\":" + (i % 11 == 0 ? "null" : "\"\(names[i % names.count]) \(i % 13)\"")) }
        fields.append("\"ok\":" + (i % 5 == 0 ? "null" : (i % 2 == 0 ? "true" : "false")))
        fields.append("\"score\":" + (i % 9 == 0 ? "null" : "\(Double(i) * 1.25 - 100)"))
        fields.append("\"small\":\(i % 4 == 0 ? -2_147_483_648 : i * 3)")
        fields.append("\"price\":" + (i % 3 == 0 ? "\"\(i).5\"" : (i % 8 == 0 ? "null" : "\(i * 7).25")))
        fields.append("\"wide\":" + (i % 6 == 0 ? "null" : "\"\(i % 2 == 0 ? "-" : "")12345678901234567890123456.\(1000 + i % 9000)\""))
        let second = String(format: "%02d", i % 60)
        fields.append("\"at\":" + (i % 10 == 0 ? "null" : (i % 2 == 0 ? "\"2024-03-0\(1 + i % 9)T10:20:\(second).\(String(format: "%03d", i % 1000))Z\"" : "\"2024-03-01T10:20:\(second)+05:30\"")))
        fields.append("\"local\":\"2023-12-31 23:59:\(second).\(String(format: "%06d", i * 37 % 1_000_000))\"")
        fields.append("\"day\":" + (i % 12 == 0 ? "null" : "\"19\(60 + i % 40)-0\(1 + i % 9)-1\(i % 10)\""))
        switch i % 4 {
        case 0: fields.append("\"tags\":null")
        case 1: fields.append("\"tags\":[]")
        case 2: fields.append("\"tags\":[\"a\",null,\"ü\(i % 3)\"]")
        default: break
        }
        fields.append("\"nums\":[" + (0..<(i % 4)).map { String($0 * i - 5) }.joined(separator: ",") + "]")
        switch i % 3 {
        case 0: fields.append("\"addr\":{\"city\":\"Köln\",\"zip\":50667,\"extra\":1}")
        case 1: fields.append("\"addr\":{\"city\":null}")
        default: fields.append("\"addr\":null")
        }
        fields.append("\"blob\":\"bytes-\(i % 5)\"")
        fields.append("\"country\":\"\(["DE", "FR", "IT", "ES"][i % 4])\"")
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func makeInput(files: Int = 3, perFile: Int = 250) throws -> URL {
        let dir = TestSupport.temporaryDirectory("sluice-parquet-in")
        for f in 0..<files {
            let lines = (0..<perFile).map { record(f * perFile + $0) }
            try TestSupport.write(lines.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("part-\(f).ndjson"))
        }
        return dir
    }

    static func config(_ output: String, workers: Int = 2, batchSize: Int = 64) throws -> PipelineConfig {
        try PipelineConfig.parse(yaml: """
            name: orders
            input: { path: unused, readers: 2 }
            batch_size: \(batchSize)
            defaults: { workers: \(workers) }
            output:
            \(output.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            """)
    }

    static func parquetOutput(_ extra: String = "", rowGroupRows: Int = 100, schema: String = yamlSchema()) -> String {
        """
        path: unused
        format: parquet
        \(extra)
        parquet:
          row_group_rows: \(rowGroupRows)
          schema:
        \(schema)
        """
    }

    static func files(_ dir: URL, suffix: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: dir.path)
        var out: [String] = []
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(suffix) && !(relative as NSString).lastPathComponent.hasPrefix(".") {
                out.append(dir.appendingPathComponent(relative).path)
            }
        }
        return out.sorted()
    }

    /// Runs NDJSON and Parquet over `input`; returns both output directories.
    static func runBoth(_ input: URL, parquet: String, ndjson: String = "path: unused") throws -> (ndjson: URL, parquet: URL) {
        let n = TestSupport.temporaryDirectory("sluice-parquet-ndjson"), p = TestSupport.temporaryDirectory("sluice-parquet-out")
        let a = TestSupport.run(try config(ndjson), input: input, output: n)
        let b = TestSupport.run(try config(parquet), input: input, output: p)
        #expect(a.exitCode == 0, "\(a.failure ?? "")")
        #expect(b.exitCode == 0, "\(b.failure ?? "")")
        #expect(a.records.out == b.records.out)
        #expect(b.records.failed == 0)
        return (n, p)
    }

    @Test(arguments: ["", "compression: gzip", "compression: gzip\nlevel: 1", "parquet_codec_zstd"])
    func everyReaderReadsEveryRowAndTypeAsWritten(compression: String) throws {
        let input = try Self.makeInput()
        defer { TestSupport.cleanup(input) }
        var output = Self.parquetOutput(compression)
        if compression == "parquet_codec_zstd" {
            output = Self.parquetOutput().replacingOccurrences(of: "  row_group_rows:", with: "  compression: zstd\n  row_group_rows:")
        }
        let (n, p) = try Self.runBoth(input, parquet: output)
        defer { TestSupport.cleanup(n); TestSupport.cleanup(p) }
        let parquet = Self.files(p, suffix: ".parquet")
        #expect(parquet.count == 1)
        let report = try ParquetReaders.check(["parquet": parquet, "ndjson": Self.files(n, suffix: ".ndjson").filter { !$0.contains("/errors-") },
                                               "columns": Self.columns, "readers": ["pyarrow", "duckdb", "polars"]])
        #expect(report.contains("polars: 750 rows"))
    }

    @Test func metadataShowsRowGroupsEncodingsAndStatistics() throws {
        let input = try Self.makeInput()
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-parquet-out")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(try Self.config(Self.parquetOutput("compression: gzip", rowGroupRows: 300)), input: input, output: out, runID: "meta-run")
        #expect(summary.exitCode == 0)
        let file = try #require(Self.files(out, suffix: ".parquet").first)
        let md = try ParquetReaders.metadata(file)
        #expect(md["num_rows"] as? Int == 750)
        #expect(md["num_row_groups"] as? Int == 3)
        #expect((md["key_value"] as? [String: String])?["sluice.run_id"] == "meta-run")
        #expect((md["created_by"] as? String)?.hasPrefix("sluice") == true)
        let groups = try #require(md["row_groups"] as? [[String: Any]])
        #expect(groups.map { $0["num_rows"] as? Int } == [300, 300, 150])
        let columns = try #require(groups[0]["columns"] as? [[String: Any]])
        func column(_ path: String) throws -> [String: Any] { try #require(columns.first { $0["path"] as? String == path }) }
        // Four countries: a dictionary. Ids are all distinct: PLAIN.
        #expect(try column("country")["encodings"] as? [String] == ["PLAIN", "RLE", "RLE_DICTIONARY"])
        #expect(try column("country")["has_dictionary_page"] as? Bool == true)
        #expect(try column("id")["encodings"] as? [String] == ["PLAIN", "RLE"])
        #expect(try column("id")["compression"] as? String == "GZIP")
        #expect(try column("id")["min"] as? String == "0" && column("id")["max"] as? String == "299")
        #expect(try column("id")["null_count"] as? Int == 0)
        #expect(try column("country")["min"] as? String == "DE" && column("country")["max"] as? String == "IT")
        // ok is null for every fifth record: 60 of the first 300.
        #expect(try column("ok")["null_count"] as? Int == 60)
        #expect(try column("small")["min"] as? String == "-2147483648")
        #expect(try column("day")["min"] as? String == "1960-02-10")
    }

    @Test func dictionaryFallsBackToPlainPastItsSize() throws {
        let input = try Self.makeInput(files: 1, perFile: 100)
        defer { TestSupport.cleanup(input) }
        let out = TestSupport.temporaryDirectory("sluice-parquet-out")
        defer { TestSupport.cleanup(out) }
        let output = Self.parquetOutput().replacingOccurrences(of: "  row_group_rows:", with: "  dictionary_bytes: 0\n  row_group_rows:")
        #expect(TestSupport.run(try Self.config(output), input: input, output: out).exitCode == 0)
        let md = try ParquetReaders.metadata(try #require(Self.files(out, suffix: ".parquet").first))
        let columns = try #require((md["row_groups"] as? [[String: Any]])?.first?["columns"] as? [[String: Any]])
        #expect(columns.allSatisfy { $0["encodings"] as? [String] == ["PLAIN", "RLE"] })
    }

    @Test func partitionedLayoutReadsWithHivePartitioning() throws {
        let input = try Self.makeInput()
        defer { TestSupport.cleanup(input) }
        let schema = Self.yamlSchema(Self.columns.filter { $0["name"] as? String != "country" })
        let (n, p) = try Self.runBoth(input, parquet: Self.parquetOutput("layout: partitioned\npartition_by: [country]\nmax_open_partitions: 8", schema: schema))
        defer { TestSupport.cleanup(n); TestSupport.cleanup(p) }
        #expect(Self.files(p, suffix: ".parquet").count == 4)
        #expect(FileManager.default.fileExists(atPath: p.appendingPathComponent("country=DE").path))
        _ = try ParquetReaders.check(["glob": p.path + "/**/*.parquet", "ndjson": Self.files(n, suffix: ".ndjson").filter { !$0.contains("/errors-") },
                                      "columns": Self.columns.filter { $0["name"] as? String != "country" }, "hive": ["country"], "sort_by": "id",
                                      "readers": ["pyarrow", "duckdb", "polars"]])
    }

    @Test func rotatedAndMirroredOutputsAreEachValidFiles() throws {
        let input = try Self.makeInput()
        defer { TestSupport.cleanup(input) }
        for layout in ["max_records: 200", "max_bytes: 40KiB", "layout: mirror"] {
            let (n, p) = try Self.runBoth(input, parquet: Self.parquetOutput(layout))
            defer { TestSupport.cleanup(n); TestSupport.cleanup(p) }
            let parts = Self.files(p, suffix: ".parquet")
            switch layout {
            case "max_records: 200": #expect(parts.count == 4, "\(layout): \(parts)")
            case "layout: mirror": #expect(parts.count == 3, "\(layout): \(parts)")
            default: #expect(parts.count > 1, "\(layout): \(parts)")
            }
            _ = try ParquetReaders.check(["parquet": parts, "ndjson": Self.files(n, suffix: ".ndjson").filter { !$0.contains("/errors-") },
                                          "columns": Self.columns, "readers": ["pyarrow", "duckdb", "polars"]])
        }
    }

    /// An output that keeps no record is a valid file with zero rows and the schema.
    @Test func emptyOutputIsAZeroRowParquetFile() throws {
        let input = TestSupport.temporaryDirectory("sluice-parquet-in")
        defer { TestSupport.cleanup(input) }
        try TestSupport.write("{\"id\":\"not a number\"}\n", to: input.appendingPathComponent("a.ndjson"))
        let out = TestSupport.temporaryDirectory("sluice-parquet-out")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(try Self.config(Self.parquetOutput()), input: input, output: out)
        #expect(summary.records.failed == 1)
        let file = try #require(Self.files(out, suffix: ".parquet").first)
        let md = try ParquetReaders.metadata(file)
        #expect(md["num_rows"] as? Int == 0 && md["num_row_groups"] as? Int == 0)
        _ = try ParquetReaders.check(["parquet": [file], "ndjson": [], "columns": Self.columns, "readers": ["pyarrow", "duckdb", "polars"]])
    }

    /// XML values are text: the column types cast them (numbers, bools, dates, decimals).
    @Test func xmlTextIsCastToTheColumnTypes() throws {
        let input = TestSupport.temporaryDirectory("sluice-parquet-in")
        defer { TestSupport.cleanup(input) }
        try TestSupport.write("""
            <orders><order id="1"><total>12.50</total><paid>true</paid><day>2024-05-01</day><at>2024-05-01T10:00:00Z</at><n>7</n></order>
            <order id="2"><total>3</total><paid>0</paid><day>2024-05-02</day><at>2024-05-02 11:30:00.5+01:00</at><n>-8</n></order></orders>
            """, to: input.appendingPathComponent("o.xml"))
        let out = TestSupport.temporaryDirectory("sluice-parquet-out")
        defer { TestSupport.cleanup(out) }
        let config = try Self.config(Self.parquetOutput(schema: """
                  - { name: id, type: int64, path: '@id' }
                  - { name: total, type: "decimal(8,2)" }
                  - { name: paid, type: bool }
                  - { name: day, type: date }
                  - { name: at, type: "timestamp(ms)" }
                  - { name: n, type: int32 }
            """))
        let summary = TestSupport.run(config, input: input, output: out)
        #expect(summary.exitCode == 0 && summary.records.out == 2 && summary.records.failed == 0, "\(summary.failure ?? "") \(summary.records)")
        let file = try #require(Self.files(out, suffix: ".parquet").first)
        let result = ParquetReaders.python(["metadata", file])
        #expect(result.code == 0)
        let rows = Self.pyarrowRows(file)
        #expect(rows == "[{'id': 1, 'total': '12.50', 'paid': True, 'day': '2024-05-01', 'at': '2024-05-01 10:00:00+00:00', 'n': 7}, {'id': 2, 'total': '3.00', 'paid': False, 'day': '2024-05-02', 'at': '2024-05-02 10:30:00.500000+00:00', 'n': -8}]")
    }

    static func pyarrowRows(_ file: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", "60", "python3", "-c", """
            import pyarrow.parquet as pq, sys
            rows = pq.read_table(sys.argv[1]).to_pylist()
            print([{k: (v if isinstance(v, int) else str(v)) for k, v in r.items()} for r in rows])
            """, file]
        let out = Pipe()
        process.standardOutput = out
        try? process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
