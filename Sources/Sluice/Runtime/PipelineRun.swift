import Foundation
import Logging
import SluiceCore
import SluiceIO

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
        summary.jobID = options.jobID

        var withheld = false   // past the error threshold: nothing committed
        func finish(_ failure: RunFailure?) -> RunSummary {
            self.storage.finish()
            summary.exitCode = failure?.exitCode ?? ExitStatus.success
            summary.failure = failure?.message
            let end = Date()
            summary.endedAt = Timestamp.iso8601(end)
            summary.elapsedSeconds = (end.timeIntervalSince(startDate) * 1000).rounded() / 1000
            RunSummaryWriter(pipeline: config.name, runID: runID, extraPath: options.summaryPath, logger: logger, withheld: withheld)
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

        // With `commit_every`, each checkpoint segment has its own id (`RUNID.c0001`, ...).
        let checkpoints = config.commitEvery.map { Checkpoints(schedule: $0, runID: runID) }
        let segmentID = { checkpoints?.segmentID ?? self.runID }
        let reportPath = { (id: String) in
            URL(fileURLWithPath: outputRoot).appendingPathComponent(PipelineRun.errorReportName(self.config.errors.path, runID: id)).path
        }
        let sink: ReorderingSink
        do {
            let outputs = OutputSet(routes: config.output.effectiveRoutes, root: outputRoot, pipeline: config.name, runID: segmentID(),
                                    filePaths: files.map(\.relativePath))
            try outputs.directories.create(URL(fileURLWithPath: errorPath).deletingLastPathComponent().path)
            sink = try ReorderingSink(files: files, outputs: outputs, errorPath: reportPath(segmentID()), runID: segmentID())
        } catch {
            return finish(.fatal("\(error)"))
        }
        let thresholds = RunStateMachine.Thresholds(maxErrors: config.errors.maxErrors, maxErrorRate: config.errors.maxErrorRate,
                                                    commitAnyway: config.errors.onThreshold == .commit)
        let postActions = PostActions(config: config.input.incremental, logger: logger)
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

        if let checkpoints {
            let pipeline = config.name
            sink.betweenFiles = { [unowned sink] () throws(SinkError) in
                guard checkpoints.fileFinished() else { return }
                let r = sink.result
                let sofar = RunStateMachine.Totals(filesLeft: 0, errorLines: r.errorLines, recordsIn: r.records.in,
                                                   recordsBad: r.records.failed + r.records.discarded)
                // Past the threshold, the rest of the run is one segment, withheld at its end.
                if !thresholds.commitAnyway && RunStateMachine.thresholdFailure(sofar, thresholds) != nil { return }
                do {
                    try checkpoints.checkpoint(
                        RunCommit(sink: sink, ledger: ledger, files: files, outputRoot: outputRoot, runID: checkpoints.segmentID,
                                  pipeline: pipeline, isReleased: { storage.isStopRequested }),
                        afterCommit: { postActions.run(Array(sink.segmentOutcomes), files: files) },
                        startNext: { (id: String) throws(SinkError) in try sink.startSegment(runID: id, errorPath: reportPath(id)) })
                } catch let error as SinkError {
                    throw error
                } catch {
                    throw SinkError.stopped("checkpoint \(checkpoints.segmentID): \(error)")
                }
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
        let totals = RunStateMachine.Totals(filesLeft: files.count - sink.outcomes.count, errorLines: result.errorLines,
                                            recordsIn: result.records.in, recordsBad: result.records.failed + result.records.discarded)
        switch machine.commitDecision(.init(fatal: result.fatal, isComplete: result.isComplete), totals: totals, thresholds: thresholds) {
        case .discard(var failure):
            sink.discard()
            if let checkpoints, sink.segmentStart > 0 {
                // What earlier checkpoints committed stays: done in the ledger, its outputs in place.
                summary.outputs = checkpoints.committedOutputs
                summary.errorReport = checkpoints.committedReports.last ?? ""
                summary.files.left = files.count - sink.segmentStart
                summary.bytes.written = checkpoints.committedBytes
                failure.message += " (\(sink.segmentStart) files committed at checkpoints stay done)"
            }
            return finish(failure)
        case .withhold(let failure, let cutUnfinished):
            let report = reportPath(segmentID() + ".failed")
            do {
                if cutUnfinished { try sink.abandonUnfinished() }
                try RunCommit(sink: sink, ledger: ledger, files: files, outputRoot: outputRoot, runID: segmentID(),
                              pipeline: config.name, isReleased: { storage.isStopRequested }).withhold(errorReport: report)
            } catch {
                sink.discard()
                return finish(.fatal("\(error)"))
            }
            withheld = true
            let left = files.count - sink.segmentStart
            summary.errorReport = report
            summary.outputs = checkpoints?.committedOutputs ?? []
            summary.files.left = left
            summary.bytes.written = checkpoints?.committedBytes ?? 0
            let what = sink.segmentStart == 0 ? "nothing was committed (no output, no file marked done)"
                : "nothing since the last checkpoint was committed (\(sink.segmentStart) files committed at checkpoints stay done)"
            return finish(RunFailure(exitCode: failure.exitCode, message: failure.message + """
                : \(what); its errors are in \(report). \
                Fix the cause (or raise the threshold) and run again: the \(left) files are processed again. \
                errors.on_threshold: commit commits such a run anyway.
                """))
        case .commit(let cutUnfinished):
            do {
                if cutUnfinished { try sink.abandonUnfinished() }
                summary.bytes.written = (checkpoints?.committedBytes ?? 0) + sink.result.outputBytes
                try RunCommit(sink: sink, ledger: ledger, files: files, outputRoot: outputRoot, runID: segmentID(),
                              pipeline: config.name, isReleased: { storage.isStopRequested }).run()
            } catch {
                sink.discard()
                _ = try? ledger.recover(outputDirectory: outputRoot, temporaryDirectories: [])
                return finish(.fatal("\(error)"))
            }
        }
        summary.outputs = checkpoints?.committedOutputs ?? []
        summary.errorReport = checkpoints?.committedReports.last ?? ""
        if sink.segmentOutcomes.contains(where: { $0.status != .unchanged }) {
            summary.outputs += sink.paths.outputs
            summary.errorReport = sink.paths.errors
        }
        summary.files.left = files.count - sink.outcomes.count
        postActions.run(Array(sink.segmentOutcomes), files: files)
        RunHousekeeping(pipeline: config.name, outputRoot: outputRoot, runID: runID, retention: config.output.keepRuns, logger: logger).run()

        if machine.stopReason == .maxRuntime && summary.files.left > 0 {
            logger.warning("--max-runtime reached: \(summary.files.left) files left for the next run")
        }
        return finish(machine.exitFailure(totals, thresholds: thresholds))
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
