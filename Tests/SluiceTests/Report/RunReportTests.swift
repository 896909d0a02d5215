import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Sluice

/// `sluice report` and `sluice explain --from`: the page's figures are the summary's, it
/// fetches nothing, its SVG parses; the advice names the bound and says what to change.
@Suite struct RunReportTests {
    /// A run of `yaml` over generated orders, through the real binary.
    static func run(_ yaml: String, files: Int = 2, count: Int = 60, extra: [String] = []) throws -> (summary: RunSummary, dir: URL, config: URL) {
        let dir = TestSupport.temporaryDirectory("sluice-report")
        try RunAccountingTests.writeOrders(dir, files: files, count: count)
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write(yaml, to: config)
        let outcome = try CLITests.sluice(["run", config.path, "--progress", "never", "--report"] + extra, timeout: 120)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        let out = dir.appendingPathComponent("out").path
        let path = try RunReport.summaryPath(for: out, runID: nil)
        return (try RunReport.load(path), dir, config)
    }

    static let slowYAML = """
        name: slow
        input: { path: in }
        batch_size: 20
        stages:
          - name: quick
            filter: 'status != "x"'
          - name: slow
            command: [sh, -c, 'while read -r line; do sleep 0.01; echo "$line"; done']
            workers: 1
            queue: 2
          - name: after
            filter: 'true'
        output: { path: out, format: ndjson }
        errors: { path: errors.ndjson, max_error_rate: 1 }
        """

    /// Every `<svg>…</svg>` of `html`, and whether each parses as XML.
    static func svgParts(_ html: String) -> [String] {
        var parts: [String] = []
        var rest = html[...]
        while let start = rest.range(of: "<svg"), let end = rest[start.lowerBound...].range(of: "</svg>") {
            parts.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return parts
    }

    static func parses(_ xml: String) -> Bool {
        let parser = XMLParser(data: Data(xml.utf8))
        return parser.parse()
    }

    @Test func theSlowStageBoundTheRunAndTheReportSaysSo() throws {
        let (summary, dir, config) = try Self.run(Self.slowYAML)
        defer { TestSupport.cleanup(dir) }
        let diagnosis = RunDiagnosis(summary)
        #expect(diagnosis.bound == .stage("slow"), "\(diagnosis.text)")
        #expect(diagnosis.changes["stages.slow.workers"].map { $0 > 1 } == true, "\(diagnosis.text)")
        #expect(diagnosis.changes["stages.after.workers"] == nil)

        // The page `--report` wrote beside the summary.
        let reportPath = try #require(RunReport.pathBeside(summary, outputRoot: dir.appendingPathComponent("out").path))
        let html = try String(contentsOfFile: reportPath, encoding: .utf8)
        #expect(html.contains("Stage slow was busy"))
        for stage in summary.stages {
            #expect(html.contains("<tr data-stage=\"\(stage.name)\">"))
            #expect(html.contains("<td class=\"busy-s\">\(String(format: "%.3f", stage.busySeconds))</td>"), "\(stage.name)")
        }
        #expect(html.contains("<div class=\"big\" id=\"records-in\">\(summary.records.in)</div>"))
        #expect(html.contains("<div class=\"big\" id=\"records-out\">\(summary.records.out)</div>"))
        #expect(html.contains("<tr data-output=\"/\"><td>output</td><td>—</td><td>\(summary.records.out)</td>"))
        #expect(html.contains("id=\"queue-slow\""))
        #expect(html.contains("id=\"queue-sink\""))
        #expect(html.contains("id=\"records-per-second\""))
        // Self-contained: nothing to fetch, no script.
        for banned in ["http:", "https:", "<script", "<link", "<img", "@import", "url(http"] {
            #expect(!html.contains(banned), "\(banned)")
        }
        // Well-formed: each SVG, and the page as a whole, parse as XML.
        let svgs = Self.svgParts(html)
        #expect(svgs.count >= 5)
        for svg in svgs { #expect(Self.parses(svg), "\(svg.prefix(200))") }
        #expect(Self.parses(html))

        // explain --from says the same, with figures.
        let explained = try CLITests.sluice(["explain", config.path, "--from", dir.appendingPathComponent("out").path])
        #expect(explained.code == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains("bound: stage slow"))
        #expect(explained.stdout.contains("stage slow: workers 1 → "))
        #expect(explained.stdout.contains("with the record sizes of run \(summary.runID)"))
        let json = try CLITests.sluice(["explain", config.path, "--from", reportPath.replacingOccurrences(of: ".report.html", with: ".summary.json"), "--format", "json"])
        #expect(json.code == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["changes"] as? [String: Int])?["stages.slow.workers"] != nil)
    }

    @Test func aNoOpLastStageIsNotTheBound() throws {
        let yaml = """
            name: noop
            input: { path: in }
            batch_size: 20
            stages:
              - name: slow
                command: [sh, -c, 'while read -r line; do sleep 0.005; echo "$line"; done']
                workers: 1
              - name: noop
                filter: 'true'
            output: { path: out, format: ndjson, compression: gzip }
            """
        let (summary, dir, _) = try Self.run(yaml)
        defer { TestSupport.cleanup(dir) }
        let diagnosis = RunDiagnosis(summary)
        #expect(diagnosis.bound == .stage("slow"), "\(diagnosis.text)")
        #expect(diagnosis.bound != .stage("noop"))
    }

    @Test func reportCommandFindsTheRunAndWritesBesideIt() throws {
        let (summary, dir, _) = try Self.run(Self.slowYAML, files: 1, count: 10)
        defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out").path
        let target = dir.appendingPathComponent("r.html").path
        let byID = try CLITests.sluice(["report", out, "--run-id", summary.runID, "-o", target])
        #expect(byID.code == 0, "\(byID.stderr)")
        #expect(byID.stdout == target + "\n")
        let html = try String(contentsOfFile: target, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        let missing = try CLITests.sluice(["report", out, "--run-id", "nope"])
        #expect(missing.code == 2)
        #expect(missing.stderr.contains("no summary of run nope"))
        let empty = TestSupport.temporaryDirectory("sluice-report-empty")
        defer { TestSupport.cleanup(empty) }
        let none = try CLITests.sluice(["report", empty.path])
        #expect(none.code == 2 && none.stderr.contains("no run summary"))
    }

    @Test func cpuBoundRunsAreToldWorkersCannotHelp() {
        func stage(_ name: String, busy: Double, ready: Double, workers: Int = 4) -> RunSummary.StageStats {
            var s = RunSummary.StageStats(name: name, kind: "select", workers: workers, queueCapacity: 8, queueHighWater: 8,
                                          recordsIn: 1000, recordsOut: 1000, recordsFailed: 0, recordsFiltered: 0, busySeconds: busy)
            s.spanSeconds = 10
            s.readySeconds = ready
            s.blockedSeconds = 0
            s.waitingSeconds = Double(workers) * 10 - busy - ready
            s.utilisation = busy / (Double(workers) * 10)
            return s
        }
        var s = RunSummary(runID: "r", pipeline: "p", startedAt: "", endedAt: "", elapsedSeconds: 10,
                           files: .init(seen: 4, processed: 4, failed: 0), records: .init(in: 1000, out: 1000, filtered: 0, failed: 0, discarded: 0),
                           bytes: .init(read: 1, decoded: 1, written: 1), stages: [stage("a", busy: 6, ready: 10), stage("b", busy: 9, ready: 12)],
                           outputs: [], errorReport: "", exitCode: 0)
        s.cores = 2
        s.stageThreads = 2
        s.readers = .init(threads: 2, busySeconds: 3, decodeSeconds: 2, frameSeconds: 1, blockedSeconds: 10, spanSeconds: 20, utilisation: 0.15)
        let d = RunDiagnosis(s)
        #expect(d.bound == .cpu(costliest: "b"), "\(d.text)")
        #expect(d.advice.first?.contains("cannot make this run faster") == true)
        #expect(d.changes == ["stages.a.workers": 2, "stages.b.workers": 2])
        let html = RunReport.html(s)
        #expect(html.contains("No timeline in this summary"))
        #expect(Self.parses(html))
    }

    /// Readers blocked while the first stage waits: the gate is full of later files'
    /// finished batches waiting for the in-order sink — the report names that, not "nothing".
    @Test func readersHeldByTheInputOrderAreNamed() {
        func stage(_ name: String, busy: Double, waiting: Double) -> RunSummary.StageStats {
            var s = RunSummary.StageStats(name: name, kind: "select", workers: 2, queueCapacity: 8, queueHighWater: 8,
                                          recordsIn: 1000, recordsOut: 1000, recordsFailed: 0, recordsFiltered: 0, busySeconds: busy)
            s.spanSeconds = 10
            s.readySeconds = 0
            s.blockedSeconds = 0
            s.waitingSeconds = waiting
            s.utilisation = busy / 20
            return s
        }
        func summary(readersBlocked: Double, firstWaiting: Double) -> RunSummary {
            var s = RunSummary(runID: "r", pipeline: "p", startedAt: "", endedAt: "", elapsedSeconds: 10,
                               files: .init(seen: 4, processed: 4, failed: 0), records: .init(in: 1000, out: 1000, filtered: 0, failed: 0, discarded: 0),
                               bytes: .init(read: 1, decoded: 1, written: 1),
                               stages: [stage("parse", busy: 4, waiting: firstWaiting), stage("shape", busy: 3, waiting: 15)],
                               outputs: [], errorReport: "", exitCode: 0)
            s.cores = 2
            s.stageThreads = 2
            s.readers = .init(threads: 2, busySeconds: 4, decodeSeconds: 2.5, frameSeconds: 1.5, blockedSeconds: readersBlocked, spanSeconds: 20, utilisation: 0.4)
            return s
        }
        let held = RunDiagnosis(summary(readersBlocked: 9, firstWaiting: 12))
        #expect(held.bound == .inputOrder, "\(held.text)")
        #expect(held.headline.contains("input order"), "\(held.text)")
        #expect(held.changes["input.readers"] == 3)
        #expect(held.text.contains("bound: the input order"))
        #expect(held.text.contains("readers: busy 4.00 s of 20.00 s (20 %); blocked 45 %"), "\(held.text)")
        // The same run without the readers' blocking: nothing held it for long.
        let free = RunDiagnosis(summary(readersBlocked: 1, firstWaiting: 12))
        #expect(free.bound == .none, "\(free.text)")
        // One reader: nothing is ahead of the file being written, so it is not the order.
        var one = summary(readersBlocked: 9, firstWaiting: 12)
        one.readers?.threads = 1
        #expect(RunDiagnosis(one).bound != .inputOrder)
        let html = RunReport.html(summary(readersBlocked: 9, firstWaiting: 12))
        #expect(Self.parses(html))
    }

    @Test func explainCountsStageMemoryBesideBatches() throws {
        let yaml = """
            name: mem
            input: { path: in }
            stages:
              - name: once
                dedupe: { key: id, max_keys: 1000 }
              - name: ext
                command: [cat]
                workers: 3
            output: { path: out }
            """
        let config = try PipelineConfig.parse(yaml: yaml, file: "m.yaml")
        let plan = PipelinePlan(config: config, stages: config.effectiveStages, cores: 2)
        try #require(plan.stageMemory.map(\.stage) == ["once", "ext"], "a command stage blocks its threads (blocksThread)")
        #expect(plan.threads == 2 + 1 + 3 + 1, "2 readers, 1 shared thread (dedupe runs one batch at a time), 3 for the command, the sink")
        #expect(plan.stageMemory[0].boundBytes == 1000 * PipelinePlan.dedupeKeyBytes)
        #expect(plan.stageMemory[1].boundBytes == 3 * 2 * plan.batchBytesBound)
        #expect(plan.text.contains("stage memory: once (dedupe): up to 97.7 KiB"))
        #expect(plan.text.contains("+ stages"))
    }
}
