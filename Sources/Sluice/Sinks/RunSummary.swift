import Foundation

/// The run summary (**contract**): written as JSON to `--summary FILE` and, for every
/// run, to `<output>/<name>-<run id>.summary.json`.
public struct RunSummary: Codable, Sendable, Equatable {
    public var runID: String
    public var pipeline: String
    /// ISO-8601 UTC.
    public var startedAt: String
    public var endedAt: String
    public var elapsedSeconds: Double
    public var files: Files
    public var records: Records
    public var bytes: Bytes
    public var stages: [StageStats]
    /// Paths written (final names).
    public var outputs: [String]
    public var errorReport: String
    public var exitCode: Int32
    /// Why the run failed or stopped early, when it did.
    public var failure: String?
    /// `--shard I/N`: which shard this run was (`"0/4"`).
    public var shard: String? = nil
    /// `--job-id`: the job the run was a part of.
    public var jobID: String? = nil
    /// A merged summary: each merged run's shard, bytes and wall time.
    public var shards: [ShardStats]? = nil
    /// A merged summary (`sluice summary merge`): the run ids it combines, and every
    /// error report (`error_report` is then the first).
    public var mergedRuns: [String]? = nil
    public var errorReports: [String]? = nil

    package init(runID: String, pipeline: String, startedAt: String, endedAt: String, elapsedSeconds: Double, files: Files, records: Records, bytes: Bytes, stages: [StageStats], outputs: [String], errorReport: String, exitCode: Int32, failure: String? = nil, shard: String? = nil, jobID: String? = nil, shards: [ShardStats]? = nil, mergedRuns: [String]? = nil, errorReports: [String]? = nil) {
        self.runID = runID
        self.pipeline = pipeline
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.elapsedSeconds = elapsedSeconds
        self.files = files
        self.records = records
        self.bytes = bytes
        self.stages = stages
        self.outputs = outputs
        self.errorReport = errorReport
        self.exitCode = exitCode
        self.failure = failure
        self.shard = shard
        self.jobID = jobID
        self.shards = shards
        self.mergedRuns = mergedRuns
        self.errorReports = errorReports
    }

    public struct Files: Codable, Sendable, Equatable {
        /// Files matched by include/exclude.
        public var seen: Int
        /// Files read completely; their records are in the output.
        public var processed: Int
        /// Files that failed as a whole (I/O, corrupt gzip, broken JSON array); their
        /// records were withheld and one error line names each.
        public var failed: Int
        /// Files not read this run: done already by the ledger, younger than
        /// `input.min_age`, changed with `on_change: skip`, or past the retry cap.
        public var skipped: Int = 0
        /// Files read again because their mtime moved, found unchanged by fingerprint.
        public var unchanged: Int = 0
        /// Files a stop (signal, `--max-runtime`) left for the next run.
        public var left: Int = 0

        package init(seen: Int, processed: Int, failed: Int, skipped: Int = 0, unchanged: Int = 0, left: Int = 0) {
            self.seen = seen
            self.processed = processed
            self.failed = failed
            self.skipped = skipped
            self.unchanged = unchanged
            self.left = left
        }
    }

    public struct Records: Codable, Sendable, Equatable {
        /// Records read (framed) from processed and failed files.
        public var `in`: Int
        /// Records written to the output.
        public var out: Int
        /// Records dropped on purpose (filter).
        public var filtered: Int
        /// Records that became error lines.
        public var failed: Int
        /// Records of failed files, withheld from output and error lines.
        /// Always `in + created == out + filtered + failed + discarded + dropped`.
        public var discarded: Int
        /// Failed records of stages with `on_error: drop`: counted, not reported.
        public var dropped: Int = 0
        /// Records stages made beyond one per input record (`explode`).
        public var created: Int = 0
        /// Records that matched no `output.routes` entry and were dropped (also counted
        /// in `filtered`); present only when some record can match no route.
        public var unrouted: Int? = nil

        package init(in: Int, out: Int, filtered: Int, failed: Int, discarded: Int, dropped: Int = 0, created: Int = 0, unrouted: Int? = nil) {
            self.`in` = `in`
            self.out = out
            self.filtered = filtered
            self.failed = failed
            self.discarded = discarded
            self.dropped = dropped
            self.created = created
            self.unrouted = unrouted
        }
    }

    public struct Bytes: Codable, Sendable, Equatable {
        /// Bytes read from disk.
        public var read: Int
        /// Bytes after decompression.
        public var decoded: Int
        /// Bytes written to the output files.
        public var written: Int

        package init(read: Int, decoded: Int, written: Int) {
            self.read = read
            self.decoded = decoded
            self.written = written
        }
    }

    public struct StageStats: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var workers: Int
        /// Capacity of the stage's input queue, in batches.
        public var queueCapacity: Int
        /// Most batches the input queue ever held (never above the capacity).
        public var queueHighWater: Int
        public var recordsIn: Int
        public var recordsOut: Int
        public var recordsFailed: Int
        public var recordsFiltered: Int
        /// Failed records removed without an error line (`on_error: drop`).
        public var recordsDropped: Int = 0
        /// Seconds the stage's workers spent processing batches, summed over workers.
        public var busySeconds: Double

        package init(name: String, kind: String, workers: Int, queueCapacity: Int, queueHighWater: Int, recordsIn: Int, recordsOut: Int, recordsFailed: Int, recordsFiltered: Int, recordsDropped: Int = 0, busySeconds: Double) {
            self.name = name
            self.kind = kind
            self.workers = workers
            self.queueCapacity = queueCapacity
            self.queueHighWater = queueHighWater
            self.recordsIn = recordsIn
            self.recordsOut = recordsOut
            self.recordsFailed = recordsFailed
            self.recordsFiltered = recordsFiltered
            self.recordsDropped = recordsDropped
            self.busySeconds = busySeconds
        }
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", pipeline, startedAt = "started_at", endedAt = "ended_at",
             elapsedSeconds = "elapsed_seconds", files, records, bytes, stages, outputs,
             errorReport = "error_report", exitCode = "exit_code", failure, shard,
             mergedRuns = "merged_runs", errorReports = "error_reports", jobID = "job_id", shards
    }

    /// Pretty JSON with sorted keys, ending in a newline.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }
}

extension RunSummary.StageStats {
    enum CodingKeys: String, CodingKey {
        case name, kind, workers, queueCapacity = "queue_capacity", queueHighWater = "queue_high_water",
             recordsIn = "records_in", recordsOut = "records_out", recordsFailed = "records_failed",
             recordsFiltered = "records_filtered", recordsDropped = "records_dropped", busySeconds = "busy_seconds"
    }
}
