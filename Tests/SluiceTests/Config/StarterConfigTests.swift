import Foundation
import Testing
@testable import Sluice

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
