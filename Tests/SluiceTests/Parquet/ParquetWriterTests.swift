import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The Parquet writer's parts against known bytes, and its guarantees through real runs
/// (no Python needed: bytes are compared with bytes).
@Suite struct ParquetWriterTests {
    @Test func thriftCompactFieldsListsAndStructs() {
        var w = ThriftCompactWriter()
        w.structBody { s in
            s.field(1, i32: 1)                 // delta 1, type i32, zigzag 2
            s.field(20, i64: -1)               // delta 19 > 15: long form
            s.field(21, bool: true)            // the type nibble carries the value
            s.field(22, i32List: [1, 2, 3])    // size 3 in the high nibble
            s.field(23) { inner in inner.field(1, string: "ab") }
        }
        #expect(w.bytes == [0x15, 0x02, 0x06, 0x28, 0x01, 0x11, 0x19, 0x35, 0x02, 0x04, 0x06,
                            0x1C, 0x18, 0x02, 0x61, 0x62, 0x00, 0x00])
        var long = ThriftCompactWriter()
        long.structBody { $0.field(1, i32List: Array(repeating: 0, count: 20)) }
        #expect(Array(long.bytes.prefix(3)) == [0x19, 0xF5, 20])
    }

    @Test func rleBitPackedHybrid() {
        var out: [UInt8] = []
        ParquetEncoding.hybrid([UInt8](repeating: 0, count: 10), bitWidth: 1, into: &out)
        #expect(out == [20, 0x00])  // one RLE run of 10 zeros
        out = []
        ParquetEncoding.hybrid([1, 0, 1, 0, 1, 0, 1, 0] as [UInt8], bitWidth: 1, into: &out)
        #expect(out == [3, 0x55])  // one bit-packed group
        out = []
        ParquetEncoding.hybrid([1, 2, 3] as [UInt32], bitWidth: 2, into: &out)
        #expect(out == [3, 0b11_10_01, 0])  // padded last group
        out = []
        ParquetEncoding.hybrid([5, 5, 5, 5, 5, 5, 5, 5, 5, 1] as [UInt32], bitWidth: 3, into: &out)
        #expect(out == [18, 5, 3, 1, 0, 0])  // RLE 9×5, then a group holding the 1
        out = []
        ParquetEncoding.levels([1, 1, 0][...], maxLevel: 1, into: &out)
        #expect(out == [2, 0, 0, 0, 3, 0b011])
    }

    @Test func decimalsAreExactOrRefused() {
        func d(_ text: String, _ p: Int = 10, _ s: Int = 2) -> String {
            switch ParquetValueParsing.decimal(Array(text.utf8), precision: p, scale: s) {
            case .success(let v): return String(v)
            case .failure(let f): return "\(f)"
            }
        }
        #expect(d("12.5") == "1250")
        #expect(d("-0.10") == "-10")
        #expect(d("1e3") == "100000")
        #expect(d("1.50e-1") == "15")
        #expect(d("1.234") == "scale")
        #expect(d("1.2300") == "123")
        #expect(d("123456789") == "precision")
        #expect(d("99999999.99") == "9999999999")
        #expect(d("abc") == "syntax")
        #expect(d("1.") == "100")
        #expect(d("12345678901234567890123456.1234", 30, 4) == "123456789012345678901234561234")
    }

    @Test func timestampsAndDates() {
        func t(_ text: String, micros: Bool = false, utc: Bool = true) -> String {
            switch ParquetValueParsing.timestamp(Array(text.utf8), micros: micros, utc: utc) {
            case .success(let v): return String(v)
            case .failure(let f): return "\(f)"
            }
        }
        #expect(t("1970-01-01T00:00:01Z") == "1000")
        #expect(t("1970-01-01T01:00:00+01:00") == "0")
        #expect(t("1969-12-31 23:59:59.999") == "-1")
        #expect(t("2024-02-29") == "1709164800000")
        #expect(t("2024-01-01T00:00:00.1234") == "precision")
        #expect(t("2024-01-01T00:00:00.123000") == "1704067200123")
        #expect(t("2024-01-01T00:00:00.123456", micros: true) == "1704067200123456")
        #expect(t("2024-01-01T00:00:00Z", utc: false) == "offset")
        #expect(t("2024-01-01T00:00:00", utc: false) == "1704067200000")
        #expect(t("2024-13-01") == "syntax")
        #expect(ParquetValueParsing.date(Array("2023-02-29".utf8)) == nil)
        #expect(ParquetValueParsing.date(Array("1970-01-02".utf8)) == 1)
        #expect(ParquetValueParsing.date(Array("1969-12-31".utf8)) == -1)
    }

    static let schema = """
        path: unused
        format: parquet
        parquet:
          row_group_rows: 3
          schema:
            - { name: id, type: int64, nullable: false }
            - { name: country, type: string }
            - { name: total, type: "decimal(9,2)" }
            - { name: tags, type: "list<string>" }
        """

    /// The values of `fixtures/outputs/in` that fit the schema; the rest are error lines.
    static func run(_ output: String = schema, workers: Int = 2, batchSize: Int = 2, exclude: String = "[]", runID: String = "test") throws -> (RunSummary, URL) {
        let config = try PipelineConfig.parse(yaml: """
            name: orders
            input: { path: unused, readers: 2, exclude: \(exclude) }
            batch_size: \(batchSize)
            defaults: { workers: \(workers) }
            output:
            \(output.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            """)
        let out = TestSupport.temporaryDirectory("sluice-parquet-out")
        return (TestSupport.run(config, input: TestSupport.fixture("outputs/in"), output: out, runID: runID), out)
    }

    static func parquetFiles(_ dir: URL) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let walker = FileManager.default.enumerator(atPath: dir.path)
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(".parquet") && !(relative as NSString).lastPathComponent.hasPrefix(".") {
                files[relative] = TestSupport.read(dir.appendingPathComponent(relative))
            }
        }
        return files
    }

    @Test func valueThatDoesNotFitIsAValidationErrorNamingTheColumn() throws {
        let (summary, out) = try Self.run()
        defer { TestSupport.cleanup(out) }
        #expect(summary.exitCode == 0)
        let report = String(decoding: TestSupport.read(out.appendingPathComponent("errors-test.ndjson")), as: UTF8.self)
        let lines = report.split(separator: "\n").filter { $0.contains("\"stage\":\"output\"") }
        // id 5 has tags {"k":1} (not a list), id 8 has total "n/a", id 10 total 1e400; id 7
        // has no country (a null: fine).
        #expect(lines.count == 3, "\(report)")
        #expect(lines.contains { $0.contains("parquet column 'total': 1e400 does not fit decimal(9,2)") })
        #expect(lines.allSatisfy { $0.contains("\"kind\":\"validation\"") })
        #expect(lines.contains { $0.contains("parquet column 'tags': expected a list, got an object") && $0.contains("\"id\":5") })
        #expect(lines.contains { $0.contains("parquet column 'total': \\\"n/a\\\" is not a decimal number") && $0.contains("\"id\":8") })
        #expect(summary.records.failed >= 2)
        let files = Self.parquetFiles(out)
        #expect(files.count == 1)
        let bytes = try #require(files.values.first)
        #expect(Array(bytes.prefix(4)) == Array("PAR1".utf8) && Array(bytes.suffix(4)) == Array("PAR1".utf8))
    }

    /// A file that fails midway (`zz-broken.json`) contributes no row: the output is byte
    /// for byte the output of a run without that file. And the bytes do not depend on
    /// the worker count or the batch size (row groups split at exactly row_group_rows).
    @Test func failedFileAddsNoRowAndBytesDoNotDependOnWorkersOrBatches() throws {
        var outputs: [[String: [UInt8]]] = []
        for (workers, batch, exclude) in [(2, 2, "[]"), (1, 2, "[]"), (4, 5, "[]"), (2, 3, "['zz-*']")] {
            let (summary, out) = try Self.run(workers: workers, batchSize: batch, exclude: exclude)
            defer { TestSupport.cleanup(out) }
            #expect(summary.exitCode == 0)
            outputs.append(Self.parquetFiles(out))
        }
        #expect(outputs[0].count == 1)
        #expect(outputs.allSatisfy { $0 == outputs[0] })
    }

    @Test func everyLayoutRollsBackTheFailedFile() throws {
        for layout in ["layout: partitioned\n  partition_by: [country]", "layout: mirror", "max_records: 2", "compression: gzip"] {
            let output = Self.schema.replacingOccurrences(of: "format: parquet", with: "format: parquet\n" + layout.replacingOccurrences(of: "\n  ", with: "\n"))
            let (a, outA) = try Self.run(output)
            let (b, outB) = try Self.run(output, workers: 1, batchSize: 2, exclude: "['zz-*']")
            defer { TestSupport.cleanup(outA); TestSupport.cleanup(outB) }
            #expect(a.exitCode == 0 && b.exitCode == 0, "\(layout): \(a.failure ?? "") \(b.failure ?? "")")
            let filesA = Self.parquetFiles(outA)
            #expect(!filesA.isEmpty, "\(layout)")
            #expect(filesA == Self.parquetFiles(outB), "\(layout): \(filesA.keys.sorted()) vs \(Self.parquetFiles(outB).keys.sorted())")
        }
    }

    @Test func configErrorsNameTheProblem() throws {
        func problems(_ output: String) -> String {
            do {
                _ = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in }\noutput:\n" + output.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(problems("path: o\nformat: parquet").contains("format parquet needs 'parquet'"))
        #expect(problems("path: o\nformat: parquet\nparquet: { schema: [{ name: a, type: int8 }] }").contains("'int8' is not a parquet type"))
        #expect(problems("path: o\nformat: parquet\nparquet: { schema: [{ name: a, type: \"decimal(40,2)\" }] }").contains("is not a parquet type"))
        #expect(problems("path: o\nformat: parquet\nparquet: { schema: [{ name: a, type: struct }] }").contains("needs 'fields'"))
        #expect(problems("path: o\nformat: parquet\nparquet: { schema: [{ name: a, type: int64 }, { name: a, type: string }] }").contains("duplicate column name 'a'"))
        #expect(problems("path: o\nformat: parquet\nparquet: { schema: [{ name: a, type: int64, colour: red }] }").contains("unknown key 'colour'"))
        #expect(problems("path: o\nparquet: { schema: [{ name: a, type: int64 }] }").contains("applies to format parquet only"))
        #expect(problems("path: o\nformat: parquet\nparquet: { schema: [{ name: a, type: \"list<string>\" }], compression: zstd, row_group_rows: 10 }") == "")
    }

    /// issue 16: an output that keeps no record is still a valid file of its format.
    @Test func emptyGzipOutputIsOneEmptyMember() throws {
        let input = TestSupport.temporaryDirectory("sluice-parquet-in")
        defer { TestSupport.cleanup(input) }
        try TestSupport.write("not json\n", to: input.appendingPathComponent("a.ndjson"))
        let config = try PipelineConfig.parse(yaml: "name: t\ninput: { path: unused }\noutput: { path: unused, compression: gzip }")
        let out = TestSupport.temporaryDirectory("sluice-parquet-out")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(config, input: input, output: out)
        let file = try #require(summary.outputs.first)
        #expect(TestSupport.read(URL(fileURLWithPath: file)).count > 0)
        #expect(try TestSupport.gunzip(URL(fileURLWithPath: file)) == [])
    }
}

@Suite struct ParquetMemoryBoundTests {
    @Test func rowGroupBufferPerOpenOutput() throws {
        func spec(_ output: String) throws -> OutputSpec {
            try PipelineConfig.parse(yaml: "name: t\ninput: { path: in }\noutput: " + output).output.spec
        }
        let schema = "parquet: { row_group_bytes: 4MiB, schema: [{ name: a, type: int64 }] }"
        #expect(try spec("{ path: o, format: parquet, \(schema) }").bufferedBytesBound == 8 << 20)
        #expect(try spec("{ path: o, format: parquet, layout: partitioned, partition_by: [a], max_open_partitions: 10, \(schema) }").bufferedBytesBound == 44 << 20)
        #expect(try spec("{ path: o }").bufferedBytesBound == 0)
    }
}
