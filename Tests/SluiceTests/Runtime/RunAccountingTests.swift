import Foundation
import Testing
@testable import Sluice

/// Where a run's time went: the scheduler's slot accounting (pure, driven by hand with a
/// made-up clock), the bounded timeline, and real runs of the binary whose summaries must
/// add up. No test asserts a duration, only sums within a tolerance.
@Suite struct RunAccountingTests {
    typealias Shape = StageScheduler.StageShape

    @Test func slotTimesAddUpToWorkersTimesSpanAndNameTheState() {
        var s = StageScheduler(stages: [Shape(workers: 2, queue: 1), Shape(workers: 1, queue: 1)], fileCount: 1)
        s.advanceClock(to: 10)
        #expect(s.submit(Batch(file: 0, index: 0)) == .accepted)
        // 1 s: stage 0 has one batch it could take (room downstream) but no thread took it.
        s.advanceClock(to: 11)
        guard case .run(0, _)? = s.take(on: .shared) else {
            Issue.record("stage 0 runs the batch")
            return
        }
        #expect(s.submit(Batch(file: 0, index: 1)) == .accepted)
        // 2 s: one slot busy; the other has a batch but stage 1's one slot is reserved.
        s.advanceClock(to: 13)
        let t = s.slotTimes
        #expect(t[0] == .init(busy: 2, waiting: 1, blocked: 2, ready: 1, span: 3))
        #expect(t[1] == .init(busy: 0, waiting: 3, blocked: 0, ready: 0, span: 3))
        for (k, workers) in [2.0, 1.0].enumerated() {
            #expect(t[k].busy + t[k].waiting + t[k].blocked + t[k].ready == workers * t[k].span)
        }
    }

    @Test func theLastStageIsBlockedWhileAThreadWaitsForTheSink() {
        var s = StageScheduler(stages: [Shape(workers: 1, queue: 2)], fileCount: 1)
        s.advanceClock(to: 0)
        _ = s.submit(Batch(file: 0, index: 0))
        _ = s.submit(Batch(file: 0, index: 1))
        _ = s.take(on: .shared)
        s.advanceClock(to: 1)
        s.handOff(stage: 0)   // the batch goes to the encoder: the stage's slot is free
        s.sinkWait(1)
        s.advanceClock(to: 3)
        s.sinkWait(-1)
        #expect(s.handedOff(encodeSeconds: 0.5) == false, "input is not closed: the lane goes on")
        #expect(s.slotTimes[0] == .init(busy: 1, waiting: 0, blocked: 2, ready: 0, span: 3))
        #expect(s.encodeSeconds == 0.5)
    }

    @Test func theSinkIsNotClosedWhileALastStageBatchIsBeingHandedOff() {
        var s = StageScheduler(stages: [Shape(workers: 1, queue: 2)], fileCount: 1)
        _ = s.submit(Batch(file: 0, index: 0))
        s.closeInput()
        _ = s.take(on: .shared)
        s.handOff(stage: 0)
        #expect(s.take(on: .shared) == nil, "the batch is not in the sink's queue yet")
        #expect(s.handedOff(encodeSeconds: 0) == true)
        guard case .finish(0, true)? = s.take(on: .shared) else {
            Issue.record("the lane finishes and closes the sink once the hand-off is done")
            return
        }
    }

    @Test func theTimelineStaysBoundedAndKeepsItsMeans() {
        var line = RunTimeline(stages: 1, interval: 0.25, capacity: 8)
        // 100 s observed every 50 ms: depth 3, 1000 records/s.
        for i in 0...2000 {
            let now = Double(i) * 0.05
            line.observe(at: now, depths: [3], sinkDepth: 1, records: [Int(now * 1000)])
        }
        line.finish(at: 100.0, records: [100_000])
        let t = line.summary(names: ["check"])
        #expect(t.sinkQueueDepth.count <= 8)
        #expect(t.stages[0].queueDepth.count == t.sinkQueueDepth.count)
        #expect(t.intervalSeconds >= 100.0 / 8 && t.intervalSeconds <= 100.0 / 2)
        #expect(t.stages[0].queueDepth.allSatisfy { $0 == 3 })
        #expect(t.sinkQueueDepth.allSatisfy { $0 == 1 })
        for rate in t.stages[0].recordsPerSecond.dropLast() { #expect(abs(rate - 1000) < 30, "\(rate)") }
    }

    // MARK: Real runs

    /// Orders with a few fields, `count` per file.
    static func writeOrders(_ dir: URL, files: Int, count: Int) throws {
        for f in 0..<files {
            var text = ""
            for i in 0..<count {
                text += #"{"id":\#(f * count + i),"status":"\#(i % 5 == 0 ? "cancelled" : "paid")","total":\#(Double(i) / 4),"customer":{"id":\#(i % 97),"country":"DE"},"items":[1,2,3]}"# + "\n"
            }
            try TestSupport.write(text, to: dir.appendingPathComponent("in/orders-\(f).ndjson"))
        }
    }

    static func run(_ yaml: String, files: Int, count: Int, extra: [String] = []) throws -> (RunSummary, URL) {
        let dir = TestSupport.temporaryDirectory("sluice-accounting")
        try writeOrders(dir, files: files, count: count)
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write(yaml, to: config)
        let summaryPath = dir.appendingPathComponent("summary.json").path
        let outcome = try CLITests.sluice(["run", config.path, "--summary", summaryPath, "--progress", "never"] + extra, timeout: 120)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
        return (summary, dir)
    }

    static func expectAddsUp(_ summary: RunSummary, slots: [String: Int] = [:]) {
        for stage in summary.stages {
            let span = stage.spanSeconds ?? 0
            let total = stage.busySeconds + (stage.waitingSeconds ?? -1) + (stage.blockedSeconds ?? -1) + (stage.readySeconds ?? -1)
            let expected = span * Double(slots[stage.name] ?? stage.workers)
            // Each figure is rounded to the millisecond.
            #expect(abs(total - expected) <= 0.02 * expected + 0.005, "\(stage.name): \(total) vs \(expected)")
        }
    }

    @Test func aSlowCommandStageIsBusyAndTheStagesAroundItAreNot() throws {
        // The pipeline the report's tests draw too: a `command` stage that sleeps per line.
        let (summary, dir) = try Self.run(RunReportTests.slowYAML, files: 2, count: 60)
        defer { TestSupport.cleanup(dir) }
        Self.expectAddsUp(summary)
        let slow = try #require(summary.stages.first { $0.name == "slow" })
        let quick = try #require(summary.stages.first { $0.name == "quick" })
        let after = try #require(summary.stages.first { $0.name == "after" })
        #expect((slow.utilisation ?? 0) > 0.8, "\(slow)")
        #expect((after.waitingSeconds ?? 0) > 0.8 * (after.spanSeconds ?? 0) * Double(after.workers), "\(after)")
        #expect((quick.blockedSeconds ?? 0) > (quick.busySeconds), "\(quick)")
        #expect(summary.records.out == 120)
        #expect(summary.outputRecords == [.init(route: "", partition: "", records: 120)])
        #expect(summary.readers?.threads == 2)
    }

    @Test func outputEncodingIsTheSinksNotTheLastStages() throws {
        let yaml = """
            name: noop
            input: { path: in }
            batch_size: 256
            stages:
              - name: shape
                filter: 'upper(status) != "X" && round(total * 100) >= 0 && len(items) > 0 && lower(customer.country) != "xx"'
              - name: noop
                filter: 'true'
            output: { path: out, format: ndjson, compression: gzip }
            """
        let (summary, dir) = try Self.run(yaml, files: 4, count: 5000)
        defer { TestSupport.cleanup(dir) }
        Self.expectAddsUp(summary)
        let shape = try #require(summary.stages.first { $0.name == "shape" })
        let noop = try #require(summary.stages.first { $0.name == "noop" })
        let sink = try #require(summary.sink)
        // The first stage also indexes the records (parses them): the no-op, after a
        // filter that leaves the bytes as they are, has nothing to do but evaluate `true`.
        #expect(noop.busySeconds < shape.busySeconds, "\(noop.busySeconds) vs \(shape.busySeconds)")
        #expect(sink.encodeSeconds > noop.busySeconds, "gzip output costs more than a no-op filter")
        #expect(summary.outputRecords?.map(\.records).reduce(0, +) == summary.records.out)
        let timeline = try #require(summary.timeline)
        #expect(timeline.stages.map(\.name) == ["shape", "noop"])
        #expect(timeline.sinkQueueDepth.count <= RunSummary.Timeline.capacity)
    }

    @Test func errorsAreCountedByStageKindAndFile() throws {
        let yaml = """
            name: errs
            input: { path: in }
            stages:
              - name: check
                validate: { types: { total: string } }
            output: { path: out, format: ndjson }
            errors: { path: errors.ndjson, max_error_rate: 1 }
            """
        let (summary, dir) = try Self.run(yaml, files: 2, count: 10)
        defer { TestSupport.cleanup(dir) }
        let errors = try #require(summary.errors)
        #expect(errors.byKind == [.init(stage: "check", kind: "validation", count: 20)])
        #expect(errors.topFiles == [.init(file: "orders-0.ndjson", count: 10), .init(file: "orders-1.ndjson", count: 10)])
    }

    @Test func theMetricsFileHasTheTimeFiguresAndFailuresByKind() {
        var snapshot = MetricsSnapshot(pipeline: "p", durationSeconds: 2, filesSeen: 1, filesProcessed: 1, filesFailed: 0,
                                       filesSkipped: 0, filesLeft: 0, recordsIn: 10, recordsOut: 9, stages: [], exitCode: 0, lastSuccess: nil)
        var stage = RunSummary.StageStats(name: "check", kind: "validate", workers: 2, queueCapacity: 8, queueHighWater: 8,
                                          recordsIn: 10, recordsOut: 9, recordsFailed: 1, recordsFiltered: 0, busySeconds: 1.5)
        stage.blockedSeconds = 0.25
        stage.waitingSeconds = 2
        snapshot.stages = [stage]
        snapshot.queueDepths = [3]
        snapshot.errorKinds = [.init(stage: "check", kind: "validation", count: 1)]
        let text = PrometheusText.render(snapshot)
        #expect(text.contains(#"sluice_stage_blocked_seconds{pipeline="p",stage="check"} 0.250"#))
        #expect(text.contains(#"sluice_stage_waiting_seconds{pipeline="p",stage="check"} 2"#))
        #expect(text.contains(#"sluice_stage_busy_seconds{pipeline="p",stage="check"} 1.500"#))
        #expect(text.contains(#"sluice_stage_queue_depth{pipeline="p",stage="check"} 3"#))
        #expect(text.contains(#"sluice_records_failed{pipeline="p",stage="check",kind="validation"} 1"#))
    }

    @Test func mergedShardSummariesAddTheAccountingUp() throws {
        func shard(_ i: Int) -> RunSummary {
            var stage = RunSummary.StageStats(name: "check", kind: "validate", workers: 2, queueCapacity: 8, queueHighWater: 2,
                                              recordsIn: 10, recordsOut: 10, recordsFailed: 0, recordsFiltered: 0, busySeconds: 1)
            stage.waitingSeconds = 1
            stage.blockedSeconds = 0
            stage.readySeconds = 0
            stage.spanSeconds = 1
            var s = RunSummary(runID: "r\(i)", pipeline: "p", startedAt: "", endedAt: "", elapsedSeconds: 1,
                               files: .init(seen: 1, processed: 1, failed: 0), records: .init(in: 10, out: 10, filtered: 0, failed: 0, discarded: 0),
                               bytes: .init(read: 1, decoded: 1, written: 1), stages: [stage], outputs: [], errorReport: "", exitCode: 0)
            s.outputRecords = [.init(route: "", partition: "country=DE", records: 10)]
            s.errors = .init(kinds: [RunSummary.ErrorCounts.key(stage: "check", kind: "validation"): i + 1], files: ["f\(i)": i + 1])
            s.sink = .init(encodeSeconds: 1, writeSeconds: 0.5, waitingSeconds: 0.5, sealSeconds: 0, spanSeconds: 1,
                           queueCapacity: 8, queueHighWater: 3, utilisation: 0.5)
            s.timeline = .init(intervalSeconds: 0.25, stages: [], sinkQueueDepth: [1])
            return s
        }
        let merged = try RunSummary.merge([shard(0), shard(1)])
        #expect(merged.stages[0].waitingSeconds == 2)
        #expect(merged.outputRecords == [.init(route: "", partition: "country=DE", records: 20)])
        #expect(merged.errors?.byKind == [.init(stage: "check", kind: "validation", count: 3)])
        #expect(merged.errors?.topFiles.map(\.file) == ["f1", "f0"])
        #expect(merged.sink?.encodeSeconds == 2)
        #expect(merged.timeline == nil)
        // An old summary without the new fields still decodes and merges.
        let old = try JSONDecoder().decode(RunSummary.self, from: Data(#"{"run_id":"a","pipeline":"p","started_at":"","ended_at":"","elapsed_seconds":1,"files":{"seen":0,"processed":0,"failed":0,"skipped":0,"unchanged":0,"left":0},"records":{"in":0,"out":0,"filtered":0,"failed":0,"discarded":0,"dropped":0,"created":0},"bytes":{"read":0,"decoded":0,"written":0},"stages":[],"outputs":[],"error_report":"","exit_code":0}"#.utf8))
        #expect(old.readers == nil)
        _ = try RunSummary.merge([old, shard(0)])
    }
}
