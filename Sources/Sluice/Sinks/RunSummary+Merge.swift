import Foundation

extension RunSummary {
    /// Why summaries cannot be merged.
    public struct MergeError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Combines the summaries of runs that split one job (`--shard I/N`): counts and bytes
    /// add up, the start is the earliest and the end the latest (elapsed is the span
    /// between them), per-stage numbers add up by stage name (queue high-water marks take
    /// the maximum), outputs and error reports are listed in order, and the exit code is
    /// the worst (highest) one.
    ///
    /// - Throws: ``MergeError`` when there is no summary or the pipelines differ.
    public static func merge(_ summaries: [RunSummary]) throws(MergeError) -> RunSummary {
        guard var merged = summaries.first else { throw MergeError(description: "no summaries to merge") }
        if let other = summaries.first(where: { $0.pipeline != merged.pipeline }) {
            throw MergeError(description: "summaries of different pipelines: '\(merged.pipeline)' and '\(other.pipeline)'")
        }
        merged.shards = summaries.flatMap { s in
            s.shards ?? [ShardStats(shard: s.shard, jobID: s.jobID, runID: s.runID, filesProcessed: s.files.processed,
                                    bytesRead: s.bytes.read, recordsOut: s.records.out, elapsedSeconds: s.elapsedSeconds, exitCode: s.exitCode)]
        }
        let jobs = Set(summaries.map(\.jobID))
        merged.jobID = jobs.count == 1 ? jobs.first ?? nil : nil
        merged.runID = summaries.map(\.runID).joined(separator: "+")
        merged.mergedRuns = summaries.flatMap { $0.mergedRuns ?? [$0.runID] }
        merged.shard = nil
        merged.startedAt = summaries.map(\.startedAt).filter { !$0.isEmpty }.min() ?? ""
        merged.endedAt = summaries.map(\.endedAt).max() ?? ""
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let start = formatter.date(from: merged.startedAt), let end = formatter.date(from: merged.endedAt) {
            merged.elapsedSeconds = (end.timeIntervalSince(start) * 1000).rounded() / 1000
        } else {
            merged.elapsedSeconds = summaries.map(\.elapsedSeconds).max() ?? 0
        }
        var files = Files(seen: 0, processed: 0, failed: 0)
        var records = Records(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0)
        var bytes = Bytes(read: 0, decoded: 0, written: 0)
        var stages: [StageStats] = []
        var unrouted: Int?
        for s in summaries {
            files.seen += s.files.seen
            files.processed += s.files.processed
            files.failed += s.files.failed
            files.skipped += s.files.skipped
            files.unchanged += s.files.unchanged
            files.left += s.files.left
            if let grown = s.files.grown { files.grown = (files.grown ?? [:]).merging(grown) { $1 } }
            records.in += s.records.in
            records.out += s.records.out
            records.filtered += s.records.filtered
            records.failed += s.records.failed
            records.discarded += s.records.discarded
            if let u = s.records.unrouted { unrouted = (unrouted ?? 0) + u }
            bytes.read += s.bytes.read
            bytes.decoded += s.bytes.decoded
            bytes.written += s.bytes.written
            for stage in s.stages {
                if let i = stages.firstIndex(where: { $0.name == stage.name }) {
                    stages[i].workers += stage.workers
                    stages[i].queueHighWater = max(stages[i].queueHighWater, stage.queueHighWater)
                    stages[i].recordsIn += stage.recordsIn
                    stages[i].recordsOut += stage.recordsOut
                    stages[i].recordsFailed += stage.recordsFailed
                    stages[i].recordsFiltered += stage.recordsFiltered
                    stages[i].busySeconds = ((stages[i].busySeconds + stage.busySeconds) * 1000).rounded() / 1000
                    stages[i].waitingSeconds = Self.sum(stages[i].waitingSeconds, stage.waitingSeconds)
                    stages[i].blockedSeconds = Self.sum(stages[i].blockedSeconds, stage.blockedSeconds)
                    stages[i].readySeconds = Self.sum(stages[i].readySeconds, stage.readySeconds)
                    stages[i].spanSeconds = Self.sum(stages[i].spanSeconds, stage.spanSeconds)
                    // Shards ran side by side: a stage's share of its own time, over all of them.
                    if let span = stages[i].spanSeconds, span > 0 {
                        let slots = Double(max(1, stages[i].workers))
                        stages[i].utilisation = ((min(1, stages[i].busySeconds / (span * slots / Double(max(1, summaries.count))))) * 1000).rounded() / 1000
                    }
                } else {
                    stages.append(stage)
                }
            }
        }
        records.unrouted = unrouted
        merged.mergeAccounting(summaries)
        merged.files = files
        merged.records = records
        merged.bytes = bytes
        merged.stages = stages
        merged.outputs = summaries.flatMap(\.outputs)
        let reports = summaries.flatMap { $0.errorReports ?? ($0.errorReport.isEmpty ? [] : [$0.errorReport]) }
        merged.errorReports = reports
        merged.errorReport = reports.first ?? ""
        merged.exitCode = summaries.map(\.exitCode).max() ?? 0
        let failures = summaries.compactMap { s in s.failure.map { "\(s.shard.map { "shard \($0)" } ?? s.runID): \($0)" } }
        merged.failure = failures.isEmpty ? nil : failures.joined(separator: "; ")
        return merged
    }
}

extension RunSummary {
    package static func sum(_ a: Double?, _ b: Double?) -> Double? {
        guard a != nil || b != nil else { return nil }
        return (((a ?? 0) + (b ?? 0)) * 1000).rounded() / 1000
    }

    /// Readers', sink's and per-output numbers add up; timelines of runs side by side do
    /// not line up, so a merged summary has none.
    package mutating func mergeAccounting(_ summaries: [RunSummary]) {
        timeline = nil
        batchSize = summaries.compactMap(\.batchSize).max()
        let readerRows = summaries.compactMap(\.readers)
        readers = readerRows.dropFirst().reduce(readerRows.first) { sum, r in
            guard var sum else { return r }
            sum.threads += r.threads
            sum.busySeconds = Self.sum(sum.busySeconds, r.busySeconds)!
            sum.decodeSeconds = Self.sum(sum.decodeSeconds, r.decodeSeconds)!
            sum.frameSeconds = Self.sum(sum.frameSeconds, r.frameSeconds)!
            sum.blockedSeconds = Self.sum(sum.blockedSeconds, r.blockedSeconds)!
            sum.spanSeconds = Self.sum(sum.spanSeconds, r.spanSeconds)!
            sum.utilisation = max(sum.utilisation, r.utilisation)
            return sum
        }
        let sinkRows = summaries.compactMap(\.sink)
        sink = sinkRows.dropFirst().reduce(sinkRows.first) { sum, k in
            guard var sum else { return k }
            sum.encodeSeconds = Self.sum(sum.encodeSeconds, k.encodeSeconds)!
            sum.writeSeconds = Self.sum(sum.writeSeconds, k.writeSeconds)!
            sum.waitingSeconds = Self.sum(sum.waitingSeconds, k.waitingSeconds)!
            sum.sealSeconds = Self.sum(sum.sealSeconds, k.sealSeconds)!
            sum.spanSeconds = Self.sum(sum.spanSeconds, k.spanSeconds)!
            sum.queueHighWater = max(sum.queueHighWater, k.queueHighWater)
            sum.utilisation = max(sum.utilisation, k.utilisation)
            return sum
        }
        let threads = summaries.compactMap(\.stageThreads)
        stageThreads = threads.isEmpty ? nil : threads.reduce(0, +)
        let coreCounts = summaries.compactMap(\.cores)
        cores = coreCounts.isEmpty ? nil : coreCounts.reduce(0, +)
        if summaries.contains(where: { $0.outputRecords != nil }) {
            var counts: [String: OutputRecords] = [:]
            for row in summaries.flatMap({ $0.outputRecords ?? [] }) {
                counts["\(row.route)\u{0}\(row.partition)", default: OutputRecords(route: row.route, partition: row.partition, records: 0)].records += row.records
            }
            outputRecords = counts.values.sorted { ($0.route, $0.partition) < ($1.route, $1.partition) }
        } else {
            outputRecords = nil
        }
        if summaries.contains(where: { $0.errors != nil }) {
            var kinds: [String: Int] = [:], files: [String: Int] = [:]
            for e in summaries.compactMap(\.errors) {
                for k in e.byKind { kinds[ErrorCounts.key(stage: k.stage, kind: k.kind), default: 0] += k.count }
                for f in e.topFiles { files[f.file, default: 0] += f.count }
            }
            errors = ErrorCounts(kinds: kinds, files: files)
        } else {
            errors = nil
        }
    }

    /// One merged run, in a merged summary's `shards`: which shard of which job, and how
    /// much it did in how long — to see how evenly the work was split.
    public struct ShardStats: Codable, Sendable, Equatable {
        public var shard: String?
        public var jobID: String?
        public var runID: String
        public var filesProcessed: Int
        public var bytesRead: Int
        public var recordsOut: Int
        public var elapsedSeconds: Double
        public var exitCode: Int32

        enum CodingKeys: String, CodingKey {
            case shard, jobID = "job_id", runID = "run_id", filesProcessed = "files_processed", bytesRead = "bytes_read",
                 recordsOut = "records_out", elapsedSeconds = "elapsed_seconds", exitCode = "exit_code"
        }
    }

    /// What keeps `summaries` from being exactly the N shard summaries of one job — none
    /// missing, none twice, none of another job (stale), none of another N, none without
    /// a job id — one sentence each; empty when they are.
    ///
    /// - Parameters:
    ///   - jobID: the job they must all be of; nil: they must all share one.
    ///   - shards: N; nil: the N they state, which must agree.
    public static func completenessProblems(_ summaries: [RunSummary], jobID: String?, shards: Int?) -> [String] {
        var problems: [String] = []
        var parsed: [(summary: RunSummary, shard: Shard)] = []
        for s in summaries {
            if let text = s.shard, let shard = Shard(parsing: text) {
                parsed.append((s, shard))
            } else {
                problems.append("run \(s.runID) is not a shard run (no --shard)")
            }
        }
        let counts = Set(parsed.map(\.shard.count))
        guard let n = shards ?? (counts.count == 1 ? counts.first : nil) else {
            if counts.count > 1 { problems.append("shard runs of different counts: \(counts.sorted().map { "of \($0)" }.joined(separator: ", ")) (pass --shards N)") }
            else if summaries.isEmpty { problems.append("no summaries") }
            return problems
        }
        let expectedJob: String?
        if let jobID {
            expectedJob = jobID
        } else {
            let jobs = Set(parsed.compactMap(\.summary.jobID))
            expectedJob = jobs.count == 1 ? jobs.first : nil
            if jobs.count > 1 { problems.append("summaries of different jobs: \(jobs.sorted().joined(separator: ", ")) (pass --job-id JOB)") }
        }
        var present = Set<Int>()
        for (s, shard) in parsed {
            let name = "shard \(shard) (run \(s.runID))"
            if shard.count != n {
                problems.append("\(name) is of \(shard.count) shards, not \(n)")
                continue
            }
            guard let job = s.jobID else {
                problems.append("\(name) has no job id: pass --job-id to every shard (Slurm: SLURM_ARRAY_JOB_ID is used)")
                continue
            }
            if let expectedJob, job != expectedJob {
                problems.append("\(name) is stale: of job \(job), not \(expectedJob)")
                continue
            }
            if !present.insert(shard.index).inserted { problems.append("shard \(shard) appears more than once") }
        }
        let missing = (0..<n).filter { !present.contains($0) }
        if !missing.isEmpty {
            let list = missing.count > 20 ? missing.prefix(20).map { "\($0)/\(n)" }.joined(separator: ", ") + " and \(missing.count - 20) more"
                                           : missing.map { "\($0)/\(n)" }.joined(separator: ", ")
            problems.append("missing shard\(missing.count == 1 ? "" : "s") \(list)\(expectedJob.map { " of job \($0)" } ?? "")")
        }
        return problems
    }
}

