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
                } else {
                    stages.append(stage)
                }
            }
        }
        records.unrouted = unrouted
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
