import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Every output format, layout and routing over `fixtures/outputs/in/`, compared with the
/// expected trees in `fixtures/expected/outputs/<case>/` (the output directory without
/// ledger, lock and summary; gzip files decompressed, stored without `.gz`).
///
/// The input has a file that fails midway (`zz-broken.json`: a broken JSON array whose
/// first records reach the sink first), so every case also checks that a failed file's
/// records are rolled back — across rotations, partitions and mirror files.
///
/// To accept a deliberate change: `SLUICE_UPDATE_EXPECTED=1 swift test --filter
/// OutputLayoutTests`, then review the diff of `fixtures/expected/outputs/`.
@Suite struct OutputLayoutTests {
    static let cases: [(name: String, output: String)] = [
        ("ndjson", "{ path: unused }"),
        ("json", "{ path: unused, format: json }"),
        ("json-gzip", "{ path: unused, format: json, compression: gzip, level: 1 }"),
        ("csv", "{ path: unused, format: csv, columns: [id, country, total, tags, note, missing.field] }"),
        ("rotated", "{ path: unused, format: json, max_records: 3 }"),
        ("rotated-bytes", "{ path: unused, compression: gzip, max_bytes: 120 }"),
        ("mirror", "{ path: unused, layout: mirror }"),
        ("mirror-csv", "{ path: unused, layout: mirror, format: csv, columns: [id, total] }"),
        ("partitioned", "{ path: unused, layout: partitioned, partition_by: [country] }"),
        ("routes", """
            path: unused
            routes:
              - { name: de, when: 'country == "DE" || country == "FR"', layout: partitioned, partition_by: [country], format: json }
              - { name: big, when: 'total > 100', format: csv, columns: [id, total] }
              - { name: rest }
            """),
        ("routes-drop", """
            path: unused
            compression: gzip
            routes:
              - { name: big, when: 'total > 100' }
              - { name: small, path: lists/small, when: 'total < 50', max_records: 2 }
            """),
    ]

    static func config(_ output: String, batchSize: Int = 2, workers: Int = 2) throws -> PipelineConfig {
        let indented = output.contains("\n") ? "\n" + output.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") : " " + output
        return try PipelineConfig.parse(yaml: """
            name: orders
            input: { path: unused, readers: 2 }
            batch_size: \(batchSize)
            defaults: { workers: \(workers) }
            output:\(indented)
            """)
    }

    /// The output directory as relative path → content (gzip decompressed).
    static func tree(_ root: URL) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let walker = FileManager.default.enumerator(atPath: root.path)
        while let relative = walker?.nextObject() as? String {
            let url = root.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            let name = url.lastPathComponent
            if isDirectory.boolValue || name.hasPrefix(".") || name.hasPrefix("sluice-ledger") || name.hasSuffix(".summary.json") { continue }
            if relative.hasSuffix(".gz") {
                files[String(relative.dropLast(3))] = try TestSupport.gunzip(url)
            } else {
                files[relative] = TestSupport.read(url)
            }
        }
        return files
    }

    static func expect(_ got: [String: [UInt8]], matches name: String) throws {
        let expected = TestSupport.fixture("expected/outputs/\(name)")
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_EXPECTED"] == "1" {
            try? FileManager.default.removeItem(at: expected)
            for (path, bytes) in got {
                let url = expected.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes).write(to: url)
            }
        }
        let want = try tree(expected)
        #expect(want.keys.sorted() == got.keys.sorted(), "files of \(name)")
        for (path, bytes) in want {
            #expect(String(decoding: got[path] ?? [], as: UTF8.self) == String(decoding: bytes, as: UTF8.self), "\(name)/\(path)")
        }
    }

    @Test(arguments: cases.map(\.name)) func outputMatchesExpectedFiles(name: String) throws {
        let output = try #require(Self.cases.first { $0.name == name }).output
        let out = TestSupport.temporaryDirectory("sluice-outputs")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(try Self.config(output), input: TestSupport.fixture("outputs/in"), output: out)
        #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
        #expect(summary.files.processed == 2 && summary.files.failed == 1)
        let r = summary.records
        #expect(r.in == r.out + r.filtered + r.failed + r.discarded)
        #expect(summary.outputs.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        try Self.expect(try Self.tree(out), matches: name)
    }

    /// Same bytes whatever the workers and the batch size that the sink sees: the
    /// framing depends only on batch boundaries, which depend only on the config.
    @Test(arguments: cases.map(\.name)) func outputIsByteIdenticalAcrossWorkerCounts(name: String) throws {
        let output = try #require(Self.cases.first { $0.name == name }).output
        var trees: [[String: [UInt8]]] = []
        for workers in [1, 4] {
            let out = TestSupport.temporaryDirectory("sluice-outputs")
            defer { TestSupport.cleanup(out) }
            _ = TestSupport.run(try Self.config(output, workers: workers), input: TestSupport.fixture("outputs/in"), output: out)
            var raw: [String: [UInt8]] = [:]
            for (path, _) in try Self.tree(out) {
                let real = FileManager.default.fileExists(atPath: out.appendingPathComponent(path).path) ? path : path + ".gz"
                raw[real] = TestSupport.read(out.appendingPathComponent(real))
            }
            trees.append(raw)
        }
        #expect(trees[0] == trees[1])
    }

    @Test func routesThatDropCountUnroutedRecords() throws {
        let out = TestSupport.temporaryDirectory("sluice-outputs")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(try Self.config(Self.cases.first { $0.name == "routes-drop" }!.output),
                                      input: TestSupport.fixture("outputs/in"), output: out)
        // Totals 80, null and 99.99 match neither route ("n/a" > 100 is an error line).
        #expect(summary.records.unrouted == 3)
        #expect(summary.records.filtered == 3)
        #expect(summary.records.failed == 1)
        let single = TestSupport.run(try Self.config("{ path: unused }"), input: TestSupport.fixture("outputs/in"), output: out, runID: "single")
        #expect(single.records.unrouted == nil)
    }

    /// Gzip output is one member per batch, compressed on the workers; `gzip -dc` gives
    /// exactly the bytes of an uncompressed run with one worker and one reader.
    @Test(arguments: ["ndjson", "json", "csv"]) func gzipDecompressesToTheSingleThreadedBytes(format: String) throws {
        let input = try PipelineRunTests.makeInput(files: 4, recordsPerFile: 2000)
        defer { TestSupport.cleanup(input) }
        let columns = format == "csv" ? ", columns: [id, status, customer.id, items, total]" : ""
        let plainDir = TestSupport.temporaryDirectory("sluice-outputs")
        let gzipDir = TestSupport.temporaryDirectory("sluice-outputs")
        defer { TestSupport.cleanup(plainDir); TestSupport.cleanup(gzipDir) }
        let plain = TestSupport.run(try Self.config("{ path: unused, format: \(format)\(columns) }", batchSize: 100, workers: 1),
                                    input: input, output: plainDir)
        let gzip = TestSupport.run(try Self.config("{ path: unused, format: \(format), compression: gzip, level: 6\(columns) }",
                                                   batchSize: 100, workers: 4), input: input, output: gzipDir)
        #expect(plain.exitCode == 0 && gzip.exitCode == 0)
        let plainBytes = TestSupport.read(URL(fileURLWithPath: try #require(plain.outputs.first)))
        let gzipPath = try #require(gzip.outputs.first)
        #expect(gzipPath.hasSuffix(".\(format).gz"))
        #expect(plainBytes.count > 100_000)
        #expect(try TestSupport.gunzip(URL(fileURLWithPath: gzipPath)) == plainBytes)
    }

    @Test func tooManyPartitionsIsAClearErrorAndLeavesNothing() throws {
        let out = TestSupport.temporaryDirectory("sluice-outputs")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(try Self.config("{ path: unused, layout: partitioned, partition_by: [id], max_open_partitions: 3 }"),
                                      input: TestSupport.fixture("outputs/in"), output: out)
        #expect(summary.exitCode == 1)
        #expect(summary.failure?.contains("more than max_open_partitions (3) partitions") == true, "\(summary.failure ?? "")")
        #expect(try Self.tree(out).keys.filter { !$0.hasPrefix("errors-") }.isEmpty)
        let hidden = Ledger.temporaryFiles(under: out.path)
        #expect(hidden.isEmpty, "\(hidden)")
    }

    @Test func mirrorRerunReplacesTheOutputAtomically() throws {
        let input = TestSupport.temporaryDirectory("sluice-in")
        let out = TestSupport.temporaryDirectory("sluice-outputs")
        defer { TestSupport.cleanup(input); TestSupport.cleanup(out) }
        try TestSupport.write("{\"id\":1}\n", to: input.appendingPathComponent("d/x.ndjson"))
        let config = try Self.config("{ path: unused, layout: mirror, format: json }")
        _ = TestSupport.run(config, input: input, output: out, runID: "one")
        #expect(String(decoding: TestSupport.read(out.appendingPathComponent("d/x.json")), as: UTF8.self) == "[{\"id\":1}]\n")
        try TestSupport.write("{\"id\":1}\n{\"id\":2}\n", to: input.appendingPathComponent("d/x.ndjson"))
        let second = TestSupport.run(config, input: input, output: out, runID: "two")
        #expect(second.files.processed == 1)
        #expect(String(decoding: TestSupport.read(out.appendingPathComponent("d/x.json")), as: UTF8.self) == "[{\"id\":1},\n{\"id\":2}]\n")
        let ledger = try Ledger(directory: out.path)
        #expect(try ledger.entry(pipeline: "orders", path: "d/x.ndjson")?.runID == "two")
    }

    @Test func partitionNamesAreSafe() {
        #expect(RecordFormats.partitionComponent(nil) == "__null__")
        #expect(RecordFormats.partitionComponent([]) == "__empty__")
        #expect(RecordFormats.partitionComponent(Array("..".utf8)) == "%2E.")
        #expect(RecordFormats.partitionComponent(Array(".hidden".utf8)) == "%2Ehidden")
        #expect(RecordFormats.partitionComponent(Array("a/b c%".utf8)) == "a%2Fb%20c%25")
        #expect(RecordFormats.partitionComponent(Array("__null__".utf8)) == "%5F_null__")
        #expect(RecordFormats.partitionComponent(Array("DE".utf8)) == "DE")
        let long = RecordFormats.partitionComponent(Array(String(repeating: "é", count: 200).utf8))
        #expect(long.utf8.count <= 200 && long.contains("~"))
        #expect(!long.contains("%C~") && !long.hasSuffix("%"))
    }

    @Test func csvFieldsFollowRFC4180() {
        var out: [UInt8] = []
        RecordFormats.appendCSVField(Array("a,b".utf8), to: &out)
        out.append(UInt8(ascii: ","))
        RecordFormats.appendCSVField(Array("say \"hi\"".utf8), to: &out)
        out.append(UInt8(ascii: ","))
        RecordFormats.appendCSVField(nil, to: &out)
        out.append(UInt8(ascii: ","))
        RecordFormats.appendCSVField(Array("x\ny".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"a,b\",\"say \"\"hi\"\"\",,\"x\ny\"")
    }

    @Test func outputConfigProblemsAreReported() {
        func problems(_ output: String) -> String {
            do {
                _ = try Self.config(output)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(problems("{ path: o, format: csv }").contains("format csv needs 'columns'"))
        #expect(problems("{ path: o, layout: partitioned }").contains("needs 'partition_by'"))
        #expect(problems("{ path: o, layout: mirror, max_records: 3 }").contains("apply to layout merged only"))
        #expect(problems("{ path: o, format: xml }").contains("'xml' is not one of ndjson, json, csv"))
        #expect(problems("{ path: o, routes: [{ name: a }, { name: b, when: 'x > 1' }] }").contains("must be the last route"))
        #expect(problems("{ path: o, routes: [{ name: a, when: 'x >' }] }").contains("output.routes[0].when"))
        #expect(problems("{ path: o, routes: [{ name: a, path: ../x }] }").contains("must be a relative directory"))
    }
}
