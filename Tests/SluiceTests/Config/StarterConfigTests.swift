import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct StarterConfigTests {
    @Test func sniffsFormatsPatternsAndFields() throws {
        let found = try StarterConfig.sniff(directory: TestSupport.fixture("orders").path)
        #expect(found.patterns.map(\.pattern) == ["**/*.ndjson.gz", "**/*.json", "**/*.ndjson"])
        #expect(found.format == "auto")
        #expect(found.sampled > 50)
        let paths = found.fields.map(\.path)
        for path in ["id", "status", "customer.country", "items[0].sku", "total"] {
            #expect(paths.contains(path), "\(path)")
        }
    }

    @Test func starterConfigLoadsAndRuns() throws {
        let dir = TestSupport.temporaryDirectory("sluice-init")
        defer { TestSupport.cleanup(dir) }
        try TestSupport.write("{\"a\": 1, \"b\": {\"c\": \"x\"}}\n{\"a\": 2, \"b\": {\"c\": \"y\"}}\n", to: dir.appendingPathComponent("in/x.ndjson"))
        let text = try StarterConfig.make(directory: dir.appendingPathComponent("in").path, name: "x", output: dir.appendingPathComponent("out").path)
        #expect(text.contains("#   b.c: string, 100%"))
        #expect(text.contains("format: ndjson"))
        let config = try PipelineConfig.parse(yaml: text, file: "x.yaml")
        let summary = TestSupport.run(config, input: URL(fileURLWithPath: config.input.path), output: URL(fileURLWithPath: config.output.path))
        #expect(summary.exitCode == 0)
        #expect(summary.records.out == 2)
    }
}

@Suite struct StarterConfigStagesTests {
    /// The commented-out stages of a starter config are valid once uncommented, for
    /// JSON and for XML directories (XML field names such as `@id` need quoting).
    @Test(arguments: ["orders", "orders-xml"]) func uncommentedStagesLoad(fixture: String) throws {
        let text = try StarterConfig.make(directory: TestSupport.fixture(fixture).path, name: "x", output: "out")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "stages:"))
        for i in start..<lines.count where lines[i].hasPrefix("  # ") {
            lines[i] = "  " + lines[i].dropFirst(4)
        }
        let config = try PipelineConfig.parse(yaml: lines.joined(separator: "\n"), file: "x.yaml")
        #expect(config.stages.map(\.kind) == ["filter", "validate", "select"])
        if fixture == "orders-xml" {
            #expect(text.contains("    record: order "))
            #expect(config.input.format == .xml)
        }
    }
}

@Suite struct StarterConfigNullsAndParquetTests {
    /// A field that is sometimes null is reported as such, with the kind of its values.
    @Test func sometimesNullFieldsAreReported() throws {
        let dir = TestSupport.temporaryDirectory("sluice-init")
        defer { TestSupport.cleanup(dir) }
        try TestSupport.write("{\"id\": 1, \"country\": null}\n{\"id\": 2, \"country\": \"DE\"}\n{\"id\": 3, \"country\": \"FR\"}\n{\"id\": 4, \"country\": \"IT\"}\n",
                              to: dir.appendingPathComponent("in/x.ndjson"))
        let text = try StarterConfig.make(directory: dir.appendingPathComponent("in").path, name: "x", output: dir.appendingPathComponent("out").path)
        #expect(text.contains("#   country: string, 100%, null in 25%"), "\(text)")
        #expect(text.contains("#   id: int, 100%\n"))
        // The Parquet alternative: id never null, country nullable.
        #expect(text.contains("#       - { name: id, type: int64, nullable: false }"))
        #expect(text.contains("#       - { name: country, type: string }"))
    }

    /// The commented-out Parquet output, once uncommented in place of the NDJSON one,
    /// loads and runs on the directory it came from.
    @Test func parquetAlternativeRuns() throws {
        let dir = TestSupport.temporaryDirectory("sluice-init")
        defer { TestSupport.cleanup(dir) }
        try TestSupport.write("{\"id\": 1, \"total\": 2.5, \"c\": {\"n\": \"x\"}}\n{\"id\": 2, \"total\": 3.0, \"c\": {\"n\": \"y\"}}\n",
                              to: dir.appendingPathComponent("in/x.ndjson"))
        let text = try StarterConfig.make(directory: dir.appendingPathComponent("in").path, name: "x", output: dir.appendingPathComponent("out").path)
        var lines: [String] = []
        var inParquet = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("output: {") { continue }
            if line == "# output:" { inParquet = true }
            if inParquet, line.hasPrefix("# ") && !line.hasPrefix("#   #") {
                if line.hasPrefix("# Or") || line.hasPrefix("# that") { continue }
                lines.append(String(line.dropFirst(2)))
                continue
            }
            if line.hasPrefix("errors:") { inParquet = false }
            lines.append(line)
        }
        let config = try PipelineConfig.parse(yaml: lines.joined(separator: "\n"), file: "x.yaml")
        #expect(config.output.spec.format == .parquet)
        let summary = TestSupport.run(config, input: URL(fileURLWithPath: config.input.path), output: URL(fileURLWithPath: config.output.path))
        #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
        #expect(summary.records.out == 2)
        #expect(summary.outputs.first?.hasSuffix(".parquet") == true)
    }
}
