import Foundation
import Logging
import Testing
@testable import Sluice

/// Named CSV columns, empty error reports and `output.keep_runs`, through the real binary
/// (and the pruning rule on its own).
@Suite(.serialized) struct CSVColumnsAndHousekeepingTests {
    static func files(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    @Test func namedAndPlainCSVColumns() throws {
        let dir = TestSupport.temporaryDirectory("sluice-csv")
        defer { TestSupport.cleanup(dir) }
        try TestSupport.write("{\"id\":1,\"customer\":{\"id\":\"c1\"},\"note\":\"a, b\"}\n{\"id\":2,\"customer\":{\"id\":\"c2\"}}\n",
                              to: dir.appendingPathComponent("in/a.ndjson"))
        let config = dir.appendingPathComponent("csv.yaml")
        try TestSupport.write("""
            name: c
            input: { path: \(dir.appendingPathComponent("in").path) }
            output:
              path: \(dir.appendingPathComponent("out").path)
              format: csv
              columns:
                - id
                - customer.id
                - { name: customer, value: customer.id }
                - { name: note, value: 'coalesce(note, "-")' }
                - 'coalesce(note, "")'
            """, to: config)
        let result = try CLITests.sluice(["run", config.path])
        #expect(result.code == 0, "\(result.stderr)")
        let out = dir.appendingPathComponent("out")
        let csv = try #require(Self.files(out).first { $0.hasPrefix("c-") && $0.hasSuffix(".csv") })
        let text = String(decoding: TestSupport.read(out.appendingPathComponent(csv)), as: UTF8.self)
        let header = #"id,customer.id,customer,note,"coalesce(note, """")""#
        #expect(text == header + "\r\n1,c1,c1,\"a, b\",\"a, b\"\r\n2,c2,c2,-,\r\n", "\(text)")
    }

    @Test func badNamedColumnsAreConfigErrors() throws {
        let dir = TestSupport.temporaryDirectory("sluice-csv")
        defer { TestSupport.cleanup(dir) }
        for (columns, message) in [
            ("[{ name: x }]", "missing required key 'value'"),
            ("[{ nam: x, value: id }]", "did you mean 'name'?"),
            ("[{ name: x, value: 'len(' }]", "columns"),
            ("[]", "expected at least one column"),
        ] {
            let config = dir.appendingPathComponent("bad.yaml")
            try TestSupport.write("""
                name: c
                input: { path: \(dir.path) }
                output: { path: \(dir.appendingPathComponent("out").path), format: csv, columns: \(columns) }
                """, to: config)
            let result = try CLITests.sluice(["validate", config.path])
            #expect(result.code == 2, "\(columns): \(result.stdout)\(result.stderr)")
            #expect((result.stdout + result.stderr).contains(message), "\(columns): \(result.stdout)\(result.stderr)")
        }
    }

    @Test func emptyErrorReportIsNotWrittenAndKeepRunsPrunes() throws {
        let dir = TestSupport.temporaryDirectory("sluice-keep")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try TestSupport.write("{\"id\":1,\"v\":1}\n", to: input.appendingPathComponent("a.ndjson"))
        let out = dir.appendingPathComponent("out")
        let config = dir.appendingPathComponent("k.yaml")
        try TestSupport.write("""
            name: k
            input: { path: \(input.path) }
            stages:
              - validate: { required: [id, v] }
            output: { path: \(out.path), keep_runs: 2 }
            """, to: config)

        // A clean run: no error report, and the summary line says so.
        let clean = try CLITests.sluice(["run", config.path, "--verbose"])
        #expect(clean.code == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("(1 output file; no errors)"), "\(clean.stdout)")
        #expect(!Self.files(out).contains { $0.hasPrefix("errors-") }, "\(Self.files(out))")
        let summaryName = try #require(Self.files(out).first { $0.hasSuffix(".summary.json") })
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: out.appendingPathComponent(summaryName)))
        #expect(summary.errorReport == "")
        let firstOutputs = Self.files(out).filter { $0.hasPrefix("k-") && $0.hasSuffix(".ndjson") }
        #expect(firstOutputs.count == 1)

        // Runs with errors keep their reports; after four runs only the newest two runs'
        // summaries and reports are left, and every output stays.
        for i in 2...4 {
            try TestSupport.write("{\"id\":\(i)}\n", to: input.appendingPathComponent("f\(i).ndjson"))
            let run = try CLITests.sluice(["run", config.path, "--verbose"])
            #expect(run.code == 0, "\(run.stderr)")
        }
        let names = Self.files(out)
        let summaries = names.filter { $0.hasSuffix(".summary.json") }
        let reports = names.filter { $0.hasPrefix("errors-") }
        #expect(summaries.count == 2, "\(names)")
        #expect(reports.count == 2, "\(names)")
        let kept = Set(summaries.map { String($0.dropFirst(2).dropLast(".summary.json".count)) })
        #expect(Set(reports.map { String($0.dropFirst("errors-".count).dropLast(".ndjson".count)) }) == kept)
        for name in firstOutputs { #expect(names.contains(name), "outputs are never pruned: \(names)") }
        #expect(names.contains { $0.contains("ledger") }, "\(names)")

        // keep_runs is a count ≥ 1 or a duration.
        for (value, message) in [("0", "expected at least 1 run"), ("many", "expected a number of runs (e.g. 10) or a duration (e.g. 30d), got 'many'")] {
            try TestSupport.write("""
                name: k
                input: { path: \(input.path) }
                output: { path: \(out.path), keep_runs: \(value) }
                """, to: config)
            let bad = try CLITests.sluice(["validate", config.path])
            #expect(bad.code == 2)
            #expect((bad.stdout + bad.stderr).contains(message), "\(bad.stdout)\(bad.stderr)")
        }
    }

    @Test func pruningByAgeKeepsYoungRunsAndOtherPipelines() throws {
        let dir = TestSupport.temporaryDirectory("sluice-keep")
        defer { TestSupport.cleanup(dir) }
        let now = try #require(RunHousekeeping.startDate(ofRunID: "20261201T120000Z-0000"))
        let ids = ["20261101T000000Z-aaaa", "20261130T130000Z-bbbb", "20261201T110000Z-cccc"]
        for id in ids {
            try TestSupport.write("{}", to: dir.appendingPathComponent("p-\(id).summary.json"))
            try TestSupport.write("x", to: dir.appendingPathComponent("errors-\(id).ndjson"))
            try TestSupport.write("x", to: dir.appendingPathComponent("p-\(id).ndjson"))
            try TestSupport.write("{}", to: dir.appendingPathComponent("other-\(id).summary.json"))
        }
        try TestSupport.write("{}", to: dir.appendingPathComponent("p-manual.summary.json"))
        let keeping = RunHousekeeping(pipeline: "p", outputRoot: dir.path, runID: "20261201T120000Z-dddd", errorsPath: "errors.ndjson",
                                      retention: .age(86_400), logger: TestSupport.logger, now: now)
        #expect(keeping.run(errorReport: "", mirror: false) == "")
        let names = Self.files(dir)
        #expect(!names.contains("p-\(ids[0]).summary.json") && !names.contains("errors-\(ids[0]).ndjson"))
        for id in ids[1...] { #expect(names.contains("p-\(id).summary.json") && names.contains("errors-\(id).ndjson")) }
        for id in ids { #expect(names.contains("p-\(id).ndjson") && names.contains("other-\(id).summary.json")) }
        #expect(names.contains("p-manual.summary.json"))

        // An empty report is removed, a non-empty one kept; not under a mirror layout.
        let empty = dir.appendingPathComponent("errors-x.ndjson")
        try TestSupport.write("", to: empty)
        let none = RunHousekeeping(pipeline: "p", outputRoot: dir.path, runID: "r", errorsPath: "errors.ndjson", retention: nil, logger: TestSupport.logger)
        #expect(none.run(errorReport: empty.path, mirror: true) == empty.path)
        #expect(none.run(errorReport: empty.path, mirror: false) == "")
        #expect(!FileManager.default.fileExists(atPath: empty.path))
        let full = dir.appendingPathComponent("errors-y.ndjson")
        try TestSupport.write("{}\n", to: full)
        #expect(none.run(errorReport: full.path, mirror: false) == full.path)
    }
}
