import Foundation
import Logging

/// One run of a pipeline over a data directory: scan, read, stages, sink, commit.
///
/// ```swift
/// let run = PipelineRun(config: config, options: RunOptions(), logger: logger)
/// let summary = run.run()          // blocks until every thread has been joined
/// exit(summary.exitCode)
/// ```
///
/// The facade of three layers: this type (what callers use), ``RunStorage`` (the lock and
/// what the run's actions reach) and ``RunStateMachine`` (start, drain, stop, hard stop,
/// commit, as a pure value). The data path is ``RunExecution``; the commit protocol is
/// ``RunCommit``.
///
/// Threads: `readers` reader threads, as many stage threads as cores (plus `workers` own
/// threads per blocking stage, see ``StageExecutor``), one sink thread and a supervisor,
/// all joined before `run()` returns. Queues between them are bounded; an
/// ``AdmissionGate`` bounds the batches in flight, so memory depends on the config, not
/// on the input size. Output order is the input order, whatever the thread counts.
///
/// Cancellation: ``cancel(reason:)`` (from any thread) stops every queue, reader and
/// stage promptly; the run then discards its temporary files and reports the failure.
public final class PipelineRun: Sendable {
    public let config: PipelineConfig
    public let options: RunOptions
    let logger: Logger
    public let runID: String
    private let storage: RunStorage
    private let startDate = Date()

    public typealias StopReason = Sluice.StopReason

    public init(config: PipelineConfig, options: RunOptions, logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
        self.runID = options.runID ?? PipelineRun.makeRunID(date: Date())
        let storage = RunStorage(logger: logger)
        self.storage = storage
        storage.control.onCancel { [weak storage] reason in storage?.cancel(reason: reason) }
    }

    /// `20261129T011212Z-3f9a`: sortable by start time, unique across runs.
    static func makeRunID(date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// `errors.ndjson` → `errors-RUNID.ndjson`: one error report per run, never overwritten.
    static func errorReportName(_ path: String, runID: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        let directory = String(path.dropLast(name.count))
        if let dot = name.firstIndex(of: "."), dot != name.startIndex {
            return directory + name[..<dot] + "-" + runID + name[dot...]
        }
        return directory + name + "-" + runID
    }

    /// The stages as they run (see ``PipelineConfig/effectiveStages``).
    var effectiveStages: [StageSpec] { config.effectiveStages }

    /// Stops the run as soon as possible; safe to call from any thread, more than once.
    public func cancel(reason: String = "cancelled") {
        storage.cancel(reason: reason)
    }

    /// Asks the run to stop gracefully; safe from any thread (the signal watcher calls
    /// it). The first request stops the readers from taking new files: files in flight
    /// finish within `shutdown_grace`, then the finished files are committed (outputs
    /// and ledger) and the rest are left for the next run — not failed, not marked done.
    /// A second signal stops the files in flight at once; the files finished by then
    /// are still committed, and nothing partial is left behind.
    public func requestStop(_ reason: StopReason) {
        storage.requestStop(reason)
    }

    var isStopRequested: Bool { storage.isStopRequested }

    /// Runs to completion (or cancellation) and returns the summary, also written to
    /// the output directory and `--summary`.
    public func run() -> RunSummary {
        let inputRoot = options.inputPath ?? config.input.path
        let outputRoot = options.outputRoot(config: config)
        var summary = RunSummary(
            runID: runID, pipeline: config.name, startedAt: Timestamp.iso8601(startDate), endedAt: "",
            elapsedSeconds: 0, files: .init(seen: 0, processed: 0, failed: 0),
            records: .init(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0),
            bytes: .init(read: 0, decoded: 0, written: 0), stages: [], outputs: [], errorReport: "",
            exitCode: ExitStatus.success, failure: nil)
        summary.shard = options.shard?.description

        func finish(_ failure: RunFailure?) -> RunSummary {
            self.storage.finish()
            summary.exitCode = failure?.exitCode ?? ExitStatus.success
            summary.failure = failure?.message
            let end = Date()
            summary.endedAt = Timestamp.iso8601(end)
            summary.elapsedSeconds = (end.timeIntervalSince(startDate) * 1000).rounded() / 1000
            RunSummaryWriter(pipeline: config.name, runID: runID, extraPath: options.summaryPath, logger: logger)
                .write(summary, outputRoot: outputRoot)
            if let path = options.metricsPath {
                let s = summary
                let code = summary.exitCode
                RunMetricsWriter(pipeline: config.name, logger: logger).write(path, MetricsSnapshot(
                    pipeline: config.name, durationSeconds: s.elapsedSeconds, filesSeen: s.files.seen,
                    filesProcessed: s.files.processed, filesFailed: s.files.failed, filesSkipped: s.files.skipped,
                    filesLeft: s.files.left, recordsIn: s.records.in, recordsOut: s.records.out, stages: s.stages,
                    exitCode: code,
                    lastSuccess: code == ExitStatus.success ? end.timeIntervalSince1970 : PrometheusText.lastSuccess(in: path)))
            }
            return summary
        }

        do {
            try FileManager.default.createDirectory(atPath: outputRoot, withIntermediateDirectories: true)
        } catch {
            return finish(.fatal("cannot create output directory \(outputRoot): \(error.localizedDescription)"))
        }
        let runLock: RunLock
        do {
            runLock = try RunLock.acquire(directory: outputRoot, wait: options.waitLock)
        } catch {
            if case .held = error {
                let failure = RunFailure.lockHeld(error.description)
                summary.exitCode = failure.exitCode
                summary.failure = failure.message
                return summary   // another run owns the directory: write nothing there
            }
            return finish(.fatal(error.description))
        }
        defer { runLock.release() }

        let errorPath = URL(fileURLWithPath: outputRoot).appendingPathComponent(PipelineRun.errorReportName(config.errors.path, runID: runID)).path
        let ledger: Ledger
        let plan: IncrementalPlan
        var standardInput: StandardInput?
        defer { standardInput?.remove() }
        do {
            ledger = try Ledger(directory: outputRoot)
            try recover(ledger, outputRoot: outputRoot, errorPath: errorPath)
            let planned = try planInput(root: inputRoot, ledger: ledger)
            standardInput = planned.standardInput
            summary.files.seen = planned.seen
            plan = planned.plan
        } catch {
            return finish(.fatal("\(error)"))
        }
        let files = plan.items.map(\.file)
        summary.files.skipped = plan.skipped
        for path in plan.poison {
            logger.warning("skipping \(path): it failed more than input.max_retries (\(config.input.incremental.maxRetries)) times unchanged; rerun with --retry-failed to try it again")
        }
        if files.isEmpty { return finish(nil) }

        let sink: ReorderingSink
        do {
            let outputs = OutputSet(routes: config.output.effectiveRoutes, root: outputRoot, pipeline: config.name, runID: runID,
                                    filePaths: files.map(\.relativePath))
            try outputs.directories.create(URL(fileURLWithPath: errorPath).deletingLastPathComponent().path)
            sink = try ReorderingSink(files: files, outputs: outputs, errorPath: errorPath, runID: runID)
        } catch {
            return finish(.fatal("\(error)"))
        }
        for (i, item) in plan.items.enumerated() {
            if let expected = item.expectedFingerprint { sink.expectedFingerprints[i] = expected }
        }
        var pausedAfterFile = false
        let storage = self.storage
        let fileLog = FileLog(files: files, logger: logger)
        logger.info("\(files.count) file\(files.count == 1 ? "" : "s") to read (\(files.reduce(0) { $0 + $1.size }) bytes), \(plan.skipped) skipped")
        sink.onFileCommitted = { [unowned sink] outcome in
            fileLog.committed(outcome, records: sink.result.records)
            if !pausedAfterFile {
                pausedAfterFile = true
                TestHook.pause("after-file") { storage.isStopRequested }
            }
        }

        let outcome = RunExecution(config: config, options: options, files: files, stages: effectiveStages, sink: sink,
                                   storage: storage, logger: logger, startDate: startDate,
                                   filesSeen: summary.files.seen, filesSkipped: summary.files.skipped).execute()

        let result = sink.result
        summary.files.processed = result.filesProcessed
        summary.files.failed = result.filesFailed
        summary.records = result.records
        summary.bytes = RunSummary.Bytes(read: result.fileBytes, decoded: result.decodedBytes, written: result.outputBytes)
        summary.stages = outcome.stages
        summary.files.unchanged = result.filesUnchanged
        if config.output.dropsUnmatched { summary.records.unrouted = result.unrouted }

        let machine = storage.machine
        switch machine.commitDecision(.init(fatal: result.fatal, isComplete: result.isComplete)) {
        case .discard(let failure):
            sink.discard()
            return finish(failure)
        case .commit(let cutUnfinished):
            do {
                if cutUnfinished { try sink.abandonUnfinished() }
                summary.bytes.written = sink.result.outputBytes
                try RunCommit(sink: sink, ledger: ledger, files: files, outputRoot: outputRoot, runID: runID,
                              pipeline: config.name, isReleased: { storage.isStopRequested }).run()
            } catch {
                sink.discard()
                _ = try? ledger.recover(outputDirectory: outputRoot, temporaryDirectories: [])
                return finish(.fatal("\(error)"))
            }
        }
        if sink.outcomes.contains(where: { $0.status != .unchanged }) {
            summary.outputs = sink.paths.outputs
            summary.errorReport = errorPath
        }
        summary.files.left = files.count - sink.outcomes.count
        PostActions(config: config.input.incremental, logger: logger).run(sink.outcomes, files: files)
        RunHousekeeping(pipeline: config.name, outputRoot: outputRoot, runID: runID, retention: config.output.keepRuns, logger: logger).run()

        if machine.stopReason == .maxRuntime && summary.files.left > 0 {
            logger.warning("--max-runtime reached: \(summary.files.left) files left for the next run")
        }
        let records = summary.records
        let totals = RunStateMachine.Totals(filesLeft: summary.files.left, errorLines: result.errorLines,
                                            recordsIn: records.in, recordsBad: records.failed + records.discarded)
        return finish(machine.exitFailure(totals, maxErrors: config.errors.maxErrors, maxErrorRate: config.errors.maxErrorRate))
    }

    /// Finishes or rolls back a run a crash interrupted, and says what it did.
    private func recover(_ ledger: Ledger, outputRoot: String, errorPath: String) throws {
        let recovery = try ledger.recover(outputDirectory: outputRoot,
                                          temporaryDirectories: [URL(fileURLWithPath: errorPath).deletingLastPathComponent().path])
        for id in recovery.rolledForward { logger.notice("recovered run \(id): its outputs were in place, its files are now done") }
        for id in recovery.rolledBack { logger.notice("rolled back run \(id), interrupted before its outputs were all in place") }
        for path in recovery.forgottenFiles {
            logger.warning("\(path): an output holding its records is gone; it is processed again")
        }
        if !recovery.removedTemporaryFiles.isEmpty {
            logger.notice("removed \(recovery.removedTemporaryFiles.count) temporary files left by an interrupted run")
        }
    }
}
