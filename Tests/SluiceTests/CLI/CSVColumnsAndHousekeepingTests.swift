import Foundation
import Logging
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Named CSV columns and `output.keep_runs`, through the real binary
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

    @Test func keepRunsPrunesOldSummariesOnly() throws {
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
        var lastTwo: Set<String> = []
        for i in 1...4 {
            if i > 1 { try TestSupport.write("{\"id\":\(i)}\n", to: input.appendingPathComponent("f\(i).ndjson")) }
            let summary = dir.appendingPathComponent("s\(i).json")
            let run = try CLITests.sluice(["run", config.path, "--verbose", "--report", "--summary", summary.path])
            #expect(run.code == 0, "\(run.stderr)")
            if i == 4 { #expect(run.stderr.contains("pruned the summaries of 1 older run (output.keep_runs)"), "\(run.stderr)") }
            if i >= 3 {
                let id = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: summary)).runID
                lastTwo.insert("k-\(id).summary.json")
            }
        }
        // Four runs: the newest two summaries are left; every error report and output stays
        // (run 1 rejected nothing, so it wrote no error report).
        let names = Self.files(out)
        let summaries = names.filter { $0.hasSuffix(".summary.json") }
        #expect(summaries.count == 2, "\(names)")
        // Each kept summary keeps its HTML report (`--report`); the pruned runs' went with theirs.
        let reports = names.filter { $0.hasSuffix(".report.html") }
        #expect(Set(reports) == Set(summaries.map { String($0.dropLast(".summary.json".count)) + ".report.html" }), "\(names)")
        #expect(names.filter { $0.hasPrefix("errors-") }.count == 3, "\(names)")
        #expect(names.filter { $0.hasPrefix("k-") && $0.hasSuffix(".ndjson") }.count == 4, "\(names)")
        // The two kept are the last two runs (run ids of one second sort by their random
        // part, so the order comes from the summaries of runs 3 and 4, read as they ended).
        #expect(Set(summaries) == lastTwo, "\(summaries) vs \(lastTwo)")

        // The ledger can still be rebuilt from its journal with every file done.
        let rebuild = try CLITests.sluice(["ledger", "rebuild", config.path, "--dry-run"])
        #expect(rebuild.code == 0, "\(rebuild.stdout)\(rebuild.stderr)")
        #expect((rebuild.stdout + rebuild.stderr).contains("would restore 4 done files from 4 runs"), "\(rebuild.stdout)\(rebuild.stderr)")
        #expect((rebuild.stdout + rebuild.stderr).contains("the next run would process 0 of 4 input files"), "\(rebuild.stdout)\(rebuild.stderr)")

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
        RunHousekeeping(pipeline: "p", outputRoot: dir.path, runID: "20261201T120000Z-dddd",
                        retention: .age(86_400), logger: TestSupport.logger, now: now).run()
        let names = Self.files(dir)
        #expect(!names.contains("p-\(ids[0]).summary.json"))
        for id in ids[1...] { #expect(names.contains("p-\(id).summary.json")) }
        for id in ids { #expect(names.contains("p-\(id).ndjson") && names.contains("errors-\(id).ndjson") && names.contains("other-\(id).summary.json")) }
        #expect(names.contains("p-manual.summary.json"))
        #expect(RunHousekeeping(pipeline: "p", outputRoot: dir.path, runID: "x", retention: nil, logger: TestSupport.logger).summarizedRuns() == Array(ids[1...]))
    }
}
