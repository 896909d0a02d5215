import Foundation
import SluiceIO

/// What a run may override from the command line.
public struct RunOptions: Sendable {
    /// Replaces `input.path`.
    public var inputPath: String?
    /// Replaces `output.path`.
    public var outputPath: String?
    /// Also write the run summary here.
    public var summaryPath: String?
    /// A fixed run id (tests); by default one is made from the start time.
    public var runID: String?
    /// `--full`: process every file, whatever the ledger says (the ledger is still updated).
    public var full = false
    /// `--retry-failed`: also retry files the retry cap (`input.max_retries`) skips.
    public var retryFailed = false
    /// `--wait-lock`: seconds to wait for another run's lock (0: exit 4 at once).
    public var waitLock: Double = 0
    /// `--max-runtime`: after this many seconds, take no new file; finish those in flight.
    public var maxRuntime: Double?
    /// `--metrics-file`: Prometheus text, rewritten every `metricsInterval` seconds and at the end.
    public var metricsPath: String?
    public var metricsInterval: Double = 10
    /// `--shard I/N`: process only this shard's files, under `OUTPUT/shard-I-of-N/`.
    public var shard: Shard?
    /// `--job-id`: the job this run is a part of (the N shards of one job array share it),
    /// recorded in the summary so that `summary merge --check` can tell a stale summary.
    public var jobID: String?
    /// Receives a progress line about twice a second (the CLI draws it on stderr).
    public var progress: (@Sendable (String) -> Void)?
    /// What `now()` returns in expressions (tests); by default the run's start time.
    public var now: Date?
    /// The most shared threads that run CPU stages; by default the cores this process may
    /// use (``ProcessorCount/available``). Tests set it to prove the output does not
    /// depend on it.
    public var stageThreads: Int?

    public init(inputPath: String? = nil, outputPath: String? = nil, summaryPath: String? = nil, runID: String? = nil) {
        self.inputPath = inputPath
        self.outputPath = outputPath
        self.summaryPath = summaryPath
        self.runID = runID
    }
}
