import Foundation
import Logging

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
    /// Receives a progress line about twice a second (the CLI draws it on stderr).
    public var progress: (@Sendable (String) -> Void)?
    /// What `now()` returns in expressions (tests); by default the run's start time.
    public var now: Date?

    public init(inputPath: String? = nil, outputPath: String? = nil, summaryPath: String? = nil, runID: String? = nil) {
        self.inputPath = inputPath
        self.outputPath = outputPath
        self.summaryPath = summaryPath
        self.runID = runID
    }
}

/// One run of a pipeline over a data directory: scan, read, stages, sink.
///
/// ```swift
/// let run = PipelineRun(config: config, options: RunOptions(), logger: logger)
/// let summary = run.run()          // blocks until every thread has been joined
/// exit(summary.exitCode)
/// ```
///
/// Threads: `readers` reader threads, `workers` threads per stage, one sink thread, all
/// joined before `run()` returns. Queues between them are bounded (see
/// ``BoundedQueue``); an ``AdmissionGate`` bounds the batches in flight, so memory
/// depends on the config, not on the input size. Output order is the input order,
/// whatever the thread counts (see ``ReorderWindow``).
///
/// Cancellation: ``cancel()`` (from any thread) stops every queue, reader and worker
/// promptly; the run then discards its temporary files and reports the stop.
public final class PipelineRun: @unchecked Sendable {
    public let config: PipelineConfig
    public let options: RunOptions
    let logger: Logger
    public let runID: String

    private let lock = ConditionLock()
    private var queues: [BoundedQueue<Batch>] = []
    private var sinkQueue: BoundedQueue<SinkMessage>?
    private var gate: AdmissionGate?
    private var isCancelled = false
    private var cancelReason: String?
    private var cursor: FileCursor?
    private var stopReason: StopReason?
    private var stopRequestedAt: Double?
    private var isHardStopped = false
    private var isFinished = false
    private let startDate = Date()
    /// Handed to every stage: lets a stage stop the run (see ``RunControl``).
    let control = RunControl()

    public init(config: PipelineConfig, options: RunOptions, logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
        self.runID = options.runID ?? PipelineRun.makeRunID(date: Date())
        control.onCancel { [weak self] reason in self?.cancel(reason: reason) }
    }

    /// `20261129T011212Z-3f9a`: sortable by start time, unique across runs.
    static func makeRunID(date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// The stages as they run (see ``PipelineConfig/effectiveStages``).
    var effectiveStages: [StageSpec] { config.effectiveStages }

    /// Stops the run as soon as possible; safe to call from any thread, more than once.
    public func cancel(reason: String = "cancelled") {
        let (queues, sinkQueue, gate): ([BoundedQueue<Batch>], BoundedQueue<SinkMessage>?, AdmissionGate?) = lock.withLock {
            if !isCancelled {
                isCancelled = true
                cancelReason = reason
            }
            return (self.queues, self.sinkQueue, self.gate)
        }
        control.noteCancelled(reason)
        queues.forEach { $0.cancel() }
        sinkQueue?.cancel()
        gate?.cancel()
    }

    private var wasCancelled: (Bool, String?) { lock.withLock { (isCancelled, cancelReason) } }

    /// Why a run was asked to stop early.
    public enum StopReason: Sendable, Equatable {
        /// SIGINT or SIGTERM: exit 128 + the signal number.
        case signal(Int32)
        /// `--max-runtime` ran out: exit as if the run had finished.
        case maxRuntime
    }

    /// Asks the run to stop gracefully; safe from any thread (the signal watcher calls
    /// it). The first request stops the readers from taking new files: files in flight
    /// finish within `shutdown_grace`, then the finished files are committed (outputs
    /// and ledger) and the rest are left for the next run — not failed, not marked done.
    /// A second signal stops the files in flight at once; the files finished by then
    /// are still committed, and nothing partial is left behind.
    public func requestStop(_ reason: StopReason) {
        let (cursor, hard): (FileCursor?, Bool) = lock.withLock {
            if stopReason == nil {
                stopReason = reason
                stopRequestedAt = monotonicSeconds()
                return (self.cursor, false)
            }
            guard case .signal = reason else { return (nil, false) }
            // The first signal during a --max-runtime drain: the drain goes on (under the
            // same grace), but the run now ends as stopped by that signal.
            if stopReason == .maxRuntime {
                stopReason = reason
                return (nil, false)
            }
            return (nil, true)
        }
        cursor?.stop()
        if hard { hardStop() }
    }

    /// Stops files in flight now, keeping the ones already committed to the sink.
    ///
    /// Cancelling the queues only stops threads that wait on them; a stage busy with a
    /// batch (a `command` stage waiting on its worker) learns of the stop from the run
    /// control, or it would finish the batch — up to its `timeout` per record — first.
    private func hardStop() {
        let (queues, sinkQueue, gate): ([BoundedQueue<Batch>], BoundedQueue<SinkMessage>?, AdmissionGate?) = lock.withLock {
            isHardStopped = true
            return (self.queues, self.sinkQueue, self.gate)
        }
        control.noteCancelled("stopped")
        queues.forEach { $0.cancel() }
        sinkQueue?.cancel()
        gate?.cancel()
    }

    var isStopRequested: Bool { lock.withLock { stopReason != nil } }

    /// Runs to completion (or cancellation) and returns the summary, also written to
    /// the output directory and `--summary`.
    public func run() -> RunSummary {
        let inputRoot = options.inputPath ?? config.input.path
        let outputRoot = options.outputRoot(config: config)
        var summary = RunSummary(
            runID: runID, pipeline: config.name, startedAt: PipelineRun.iso8601(startDate), endedAt: "",
            elapsedSeconds: 0, files: .init(seen: 0, processed: 0, failed: 0),
            records: .init(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0),
            bytes: .init(read: 0, decoded: 0, written: 0), stages: [], outputs: [], errorReport: "",
            exitCode: 0, failure: nil)
        summary.shard = options.shard?.description

        func finish(_ code: Int32, _ failure: String?) -> RunSummary {
            summary.exitCode = code
            summary.failure = failure
            let end = Date()
            summary.endedAt = PipelineRun.iso8601(end)
            summary.elapsedSeconds = (end.timeIntervalSince(startDate) * 1000).rounded() / 1000
            writeSummary(summary, outputRoot: outputRoot)
            if let path = options.metricsPath {
                let s = summary
                writeMetrics(path, MetricsSnapshot(
                    pipeline: config.name, durationSeconds: s.elapsedSeconds, filesSeen: s.files.seen,
                    filesProcessed: s.files.processed, filesFailed: s.files.failed, filesSkipped: s.files.skipped,
                    filesLeft: s.files.left, recordsIn: s.records.in, recordsOut: s.records.out, stages: s.stages,
                    exitCode: code, lastSuccess: code == 0 ? end.timeIntervalSince1970 : PrometheusText.lastSuccess(in: path)))
            }
            return summary
        }

        do {
            try FileManager.default.createDirectory(atPath: outputRoot, withIntermediateDirectories: true)
        } catch {
            return finish(1, "cannot create output directory \(outputRoot): \(error.localizedDescription)")
        }
        let runLock: RunLock
        do {
            runLock = try RunLock.acquire(directory: outputRoot, wait: options.waitLock)
        } catch {
            if case .held = error {
                summary.exitCode = 4
                summary.failure = error.description
                return summary   // another run owns the directory: write nothing there
            }
            return finish(1, error.description)
        }
        defer { runLock.release() }

        let errorPath = URL(fileURLWithPath: outputRoot).appendingPathComponent(PipelineRun.errorReportName(config.errors.path, runID: runID)).path
        let ledger: Ledger
        let files: [InputFile]
        let plan: IncrementalPlan
        do {
            ledger = try Ledger(directory: outputRoot)
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
            var scanned = try DirectoryScanner(root: inputRoot, include: config.input.include, exclude: config.input.exclude, symlinks: config.input.followSymlinks).scan()
            if let shard = options.shard { scanned = scanned.filter { shard.contains($0.relativePath) } }
            summary.files.seen = scanned.count
            plan = try IncrementalPlan.make(files: scanned, ledger: ledger, pipeline: config.name, config: config.input.incremental,
                                            full: options.full, retryFailed: options.retryFailed)
            files = plan.items.map(\.file)
        } catch {
            return finish(1, "\(error)")
        }
        summary.files.skipped = plan.skipped
        for path in plan.poison {
            logger.warning("skipping \(path): it failed more than input.max_retries (\(config.input.incremental.maxRetries)) times unchanged; rerun with --retry-failed to try it again")
        }
        if files.isEmpty { return finish(0, nil) }

        let stages = effectiveStages
        let routes = config.output.effectiveRoutes
        let sink: ReorderingSink
        do {
            let outputs = OutputSet(routes: routes, root: outputRoot, pipeline: config.name, runID: runID, filePaths: files.map(\.relativePath))
            try outputs.directories.create(URL(fileURLWithPath: errorPath).deletingLastPathComponent().path)
            sink = try ReorderingSink(files: files, outputs: outputs, errorPath: errorPath, runID: runID)
        } catch {
            return finish(1, "\(error)")
        }
        for (i, item) in plan.items.enumerated() {
            if let expected = item.expectedFingerprint { sink.expectedFingerprints[i] = expected }
        }
        var pausedAfterFile = false
        sink.onFileCommitted = { [unowned self] _ in
            if !pausedAfterFile {
                pausedAfterFile = true
                TestHook.pause("after-file") { self.isStopRequested }
            }
        }

        // Queues: one in front of each stage, one in front of the sink.
        let stageQueues = stages.map { BoundedQueue<Batch>(capacity: $0.queue) }
        let sizing = PipelinePlan(config: config, stages: stages)
        let sinkQueue = BoundedQueue<SinkMessage>(capacity: sizing.sinkQueue)
        let gate = AdmissionGate(capacity: sizing.batchesInFlight)
        lock.withLock {
            self.queues = stageQueues
            self.sinkQueue = sinkQueue
            self.gate = gate
        }
        if wasCancelled.0 {
            stageQueues.forEach { $0.cancel() }
            sinkQueue.cancel()
            gate.cancel()
        }

        let filePaths = files.map(\.relativePath)
        let readOptions = ReadOptions(format: config.input.format, batchSize: config.batchSize,
                                      maxRecordBytes: config.input.maxRecordBytes, maxBatchBytes: config.input.maxBatchBytes,
                                      xml: config.input.xml)
        let encoder = OutputEncoder(routes: routes, filePaths: filePaths, maxDepth: config.input.maxDepth)
        let counters = stages.map { _ in StageCounters() }
        var threads: [WorkerThread] = []
        var sequencers: [InputOrderSequencer] = []

        // Sink thread.
        let sinkThread = WorkerThread(name: "sluice-sink") { [gate] in
            sink.run(queue: sinkQueue, gate: gate)
            // A write error or a stage's stop request ends the sink: stop everything
            // else too, or producers would wait on queues nobody drains.
            if let fatal = sink.result.fatal { self.cancel(reason: fatal) }
        }

        // Stage workers; the last worker of a stage to finish closes the next queue.
        for (k, spec) in stages.enumerated() {
            let liveWorkers = LiveCount(spec.workers)
            let context = StageContext(stageName: spec.name, filePaths: filePaths,
                                       now: (options.now ?? startDate).timeIntervalSince1970,
                                       logger: logger, control: control)
            let isFirst = k == 0
            let isLast = k == stages.count - 1
            let input = stageQueues[k]
            let next: BoundedQueue<Batch>? = isLast ? nil : stageQueues[k + 1]
            let counter = counters[k]
            let maxDepth = config.input.maxDepth
            let policy = spec.onError
            // Index, process, apply the error policy, count, and pass on; false when the
            // run is cancelled.
            let handle: @Sendable (Batch) -> Bool = { incoming in
                var batch = incoming
                let started = monotonicSeconds()
                // A batch that already carries a stop request passes through untouched:
                // the sink stops the run when it reaches it in input order.
                if batch.fatal != nil {
                    if let next { return next.push(batch) }
                    return sinkQueue.push(.batch(encoder.encode(batch)))
                }
                if isFirst {
                    batch.recordsIn = batch.records.count + batch.errors.count
                    batch.indexRecords(maxDepth: maxDepth, stage: "input", kind: .parse, context: context)
                } else if spec.stage.needsTape {
                    batch.indexRecords(maxDepth: maxDepth, stage: spec.name, kind: .transform, context: context)
                }
                let inCount = batch.records.count
                let errorsBefore = batch.errors.count
                let filteredBefore = batch.filtered
                spec.stage.process(&batch, context: context)
                var failed = batch.errors.count - errorsBefore
                var dropped = 0
                if failed > 0 && policy == .drop {
                    batch.errors.removeSubrange(errorsBefore...)
                    batch.dropped += failed
                    dropped = failed
                    failed = 0
                }
                let delta = StageCounters.Delta(
                    recordsIn: inCount, recordsOut: batch.records.count,
                    failed: failed, filtered: batch.filtered - filteredBefore, dropped: dropped)
                if let fatal = batch.fatal {
                    batch.fatal = "stage '\(spec.name)' failed: \(fatal)"
                } else if failed > 0 && policy == .fail {
                    let first = batch.errors[errorsBefore]
                    let place = first.line.map { "\(first.file):\($0)" } ?? first.file
                    batch.fatal = "stage '\(spec.name)' failed a record (on_error: fail) at \(place): \(first.message)"
                }
                if let next {
                    counter.add(delta, busy: monotonicSeconds() - started)
                    return next.push(batch)
                }
                let encoded = encoder.encode(batch)
                counter.add(delta, busy: monotonicSeconds() - started)
                return sinkQueue.push(.batch(encoded))
            }
            let sequencer = spec.stage.needsInputOrder ? InputOrderSequencer(run: handle) : nil
            if let sequencer { sequencers.append(sequencer) }
            for w in 0..<spec.workers {
                threads.append(WorkerThread(name: "sluice-\(k)-\(w)") {
                    while let batch = input.pop() {
                        if let sequencer {
                            sequencer.submit(batch)
                        } else if !handle(batch) {
                            break
                        }
                    }
                    if liveWorkers.decrement() {
                        if let next { next.close() } else { sinkQueue.close() }
                        spec.stage.finish(context: context)
                    }
                })
            }
        }

        let orderedStages = sequencers
        // Readers take files in order, so the head file is always being read.
        let nextFile = FileCursor(count: files.count)
        let stopEarly = lock.withLock {
            cursor = nextFile
            return stopReason != nil
        }
        if stopEarly { nextFile.stop() }
        let progress = RunProgress()
        sink.onFileCommitted = { [unowned self, previous = sink.onFileCommitted] outcome in
            progress.fileCommitted(failed: outcome.status == .failed, bytes: outcome.fileBytes)
            previous?(outcome)
            _ = self
        }
        let totalBytes = files.reduce(0) { $0 + $1.size }
        let runStart = monotonicSeconds()
        let seen = summary.files.seen, skipped = summary.files.skipped
        var lastProgress = 0.0, lastMetrics = runStart
        let supervisor = startSupervisor { [unowned self] in
            let now = monotonicSeconds()
            let wantsProgress = options.progress != nil && now - lastProgress >= 0.5
            let wantsMetrics = options.metricsPath != nil && now - lastMetrics >= options.metricsInterval
            guard wantsProgress || wantsMetrics else { return }
            let done = progress.totals
            let firstIn = counters.first?.totals.recordsIn ?? 0
            let lastOut = counters.last?.totals.recordsOut ?? 0
            if wantsProgress, let show = options.progress {
                lastProgress = now
                show(ProgressText.line(files: done.files, totalFiles: files.count, bytes: done.bytes, totalBytes: totalBytes,
                                       records: firstIn, elapsed: now - runStart,
                                       queues: zip(stages, stageQueues).map { ($0.name, $1.fill, $1.capacity) }))
            }
            if wantsMetrics, let path = options.metricsPath {
                lastMetrics = now
                let stats = zip(stages, zip(stageQueues, counters)).map { spec, pair in
                    let totals = pair.1.totals
                    return RunSummary.StageStats(
                        name: spec.name, kind: spec.kind, workers: spec.workers, queueCapacity: pair.0.capacity,
                        queueHighWater: pair.0.highWaterMark, recordsIn: totals.recordsIn, recordsOut: totals.recordsOut,
                        recordsFailed: totals.failed, recordsFiltered: totals.filtered, busySeconds: totals.busy)
                }
                writeMetrics(path, MetricsSnapshot(
                    pipeline: config.name, durationSeconds: now - runStart, filesSeen: seen,
                    filesProcessed: done.files - done.failed, filesFailed: done.failed, filesSkipped: skipped,
                    filesLeft: files.count - done.files, recordsIn: firstIn, recordsOut: lastOut, stages: stats,
                    exitCode: nil, lastSuccess: PrometheusText.lastSuccess(in: path)))
            }
        }
        let liveReaders = LiveCount(config.input.readers)
        let firstQueue = stageQueues[0]
        for r in 0..<config.input.readers {
            threads.append(WorkerThread(name: "sluice-read-\(r)") {
                while let index = nextFile.take() {
                    let file = files[index]
                    if let problem = file.problem {
                        let failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: problem)
                        orderedStages.forEach { $0.fileEnded(index, batches: 0) }
                        if !sinkQueue.push(.fileEnd(FileEnd(file: index, batches: 0, failure: failure, fileBytes: 0, decodedBytes: 0))) { break }
                        continue
                    }
                    let outcome = FileReader.read(file, fileIndex: index, options: readOptions) { batch in
                        guard gate.acquire(file: index), firstQueue.push(batch) else { throw CancellationError() }
                    }
                    if outcome.cancelled { break }
                    orderedStages.forEach { $0.fileEnded(index, batches: outcome.batches) }
                    let end = FileEnd(file: index, batches: outcome.batches, failure: outcome.failure,
                                      fileBytes: outcome.fileBytes, decodedBytes: outcome.decodedBytes,
                                      fingerprint: outcome.fingerprint)
                    if !sinkQueue.push(.fileEnd(end)) { break }
                }
                if liveReaders.decrement() { firstQueue.close() }
            })
        }

        for thread in threads { thread.join() }
        sinkThread.join()
        lock.withLock { isFinished = true }
        supervisor.join()

        // Numbers.
        let result = sink.result
        summary.files.processed = result.filesProcessed
        summary.files.failed = result.filesFailed
        summary.records = result.records
        summary.bytes = RunSummary.Bytes(read: result.fileBytes, decoded: result.decodedBytes, written: result.outputBytes)
        summary.stages = zip(stages, zip(stageQueues, counters)).map { spec, pair in
            let (queue, counter) = pair
            let totals = counter.totals
            return RunSummary.StageStats(
                name: spec.name, kind: spec.kind, workers: spec.workers, queueCapacity: queue.capacity,
                queueHighWater: queue.highWaterMark, recordsIn: totals.recordsIn, recordsOut: totals.recordsOut,
                recordsFailed: totals.failed, recordsFiltered: totals.filtered, recordsDropped: totals.dropped,
                busySeconds: (totals.busy * 1000).rounded() / 1000)
        }
        summary.files.unchanged = result.filesUnchanged
        if config.output.dropsUnmatched { summary.records.unrouted = result.unrouted }

        let (cancelled, reason) = wasCancelled
        let stop = lock.withLock { stopReason }
        if let fatal = result.fatal ?? (cancelled ? (reason ?? "cancelled") : nil) {
            sink.discard()
            return finish(1, fatal)
        }
        if stop == nil && !result.isComplete {
            sink.discard()
            return finish(1, "the run stopped before every file was committed")
        }
        do {
            // A stop leaves the head file half written: cut it off; it was not finished.
            if stop != nil { try sink.abandonUnfinished() }
            summary.bytes.written = sink.result.outputBytes
            try commit(sink: sink, ledger: ledger, files: files, outputRoot: outputRoot, errorPath: errorPath)
        } catch {
            sink.discard()
            _ = try? ledger.recover(outputDirectory: outputRoot, temporaryDirectories: [])
            return finish(1, "\(error)")
        }
        let wroteOutputs = sink.outcomes.contains { $0.status != .unchanged }
        if wroteOutputs {
            summary.outputs = sink.paths.outputs
            summary.errorReport = errorPath
        }
        summary.files.left = files.count - sink.outcomes.count
        runPostActions(sink.outcomes, files: files)

        switch stop {
        case .signal(let number)?:
            let name = number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
            return finish(128 + number, "stopped by \(name): \(summary.files.left) files left for the next run")
        case .maxRuntime?:
            if summary.files.left > 0 {
                logger.warning("--max-runtime reached: \(summary.files.left) files left for the next run")
            }
        case nil:
            break
        }

        // The error threshold: the run finished, but exits 1 past it.
        let records = summary.records
        let errorLines = result.errorLines
        if let maxErrors = config.errors.maxErrors, errorLines > maxErrors {
            return finish(1, "\(errorLines) error lines exceed errors.max_errors (\(maxErrors))")
        }
        if let maxRate = config.errors.maxErrorRate, records.in > 0 {
            let rate = Double(records.failed + records.discarded) / Double(records.in)
            if rate > maxRate {
                return finish(1, String(format: "error rate %.4f exceeds errors.max_error_rate (%g)", rate, maxRate))
            }
        }
        return finish(0, nil)
    }

    /// Ledger step 1, renames, ledger step 3 (see ``Ledger``), with test pause points.
    private func commit(sink: ReorderingSink, ledger: Ledger, files: [InputFile], outputRoot: String, errorPath: String) throws {
        let outcomes = sink.outcomes
        let wroteOutputs = outcomes.contains { $0.status != .unchanged }
        let root = URL(fileURLWithPath: outputRoot).standardizedFileURL.path + "/"
        func relative(_ path: String) -> String {
            let full = URL(fileURLWithPath: path).standardizedFileURL.path
            return full.hasPrefix(root) ? String(full.dropFirst(root.count)) : full
        }
        if wroteOutputs { try sink.seal() }
        let outputs = wroteOutputs ? sink.paths.outputs.map(relative) + [relative(sink.paths.errors)] : []
        let records = outcomes.map { outcome in
            let file = files[outcome.file]
            let status: Ledger.FileOutcome.Status = switch outcome.status {
            case .done: .done
            case .failed: .failed
            case .unchanged: .unchanged
            }
            var entry = Ledger.FileOutcome(path: file.relativePath, size: outcome.status == .failed ? file.size : outcome.fileBytes,
                                           mtime: file.mtime, fingerprint: outcome.fingerprint.map(Fingerprint.hex),
                                           status: status, error: outcome.failure?.message)
            if sink.outputs.hasMirror && outcome.status == .done {
                entry.outputs = sink.outputs.outputs(of: outcome.file).map(relative) + [relative(sink.paths.errors)]
            }
            return entry
        }
        let released = { [unowned self] in self.isStopRequested }
        try ledger.prepare(runID: runID, pipeline: config.name, outputs: outputs, files: records)
        TestHook.pause("before-rename", until: released)
        if wroteOutputs {
            try sink.commit(between: { TestHook.pause("between-renames", until: released) })
        } else {
            sink.discard()
        }
        TestHook.pause("after-rename", until: released)
        try ledger.finalize(runID: runID)
        TestHook.pause("after-ledger", until: released)
    }

    /// `input.on_success` / `input.on_failure`, after the ledger commit. A failure here
    /// is a warning: the records are committed either way.
    private func runPostActions(_ outcomes: [ReorderingSink.FileOutcome], files: [InputFile]) {
        let incremental = config.input.incremental
        for outcome in outcomes {
            let file = files[outcome.file]
            let action: IncrementalConfig.PostAction
            switch outcome.status {
            case .done: action = incremental.onSuccess
            case .failed: action = file.problem == nil ? incremental.onFailure : .keep
            case .unchanged: action = .keep
            }
            switch action {
            case .keep:
                continue
            case .delete:
                if unlink(file.path) != 0 {
                    logger.warning("cannot delete \(file.path): \(String(cString: strerror(errno)))")
                }
            case .move(let directory):
                let target = URL(fileURLWithPath: directory).appendingPathComponent(file.relativePath)
                try? FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if rename(file.path, target.path) != 0 {
                    logger.warning("cannot move \(file.path) to \(target.path): \(String(cString: strerror(errno)))")
                }
            }
        }
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

    /// A thread that enforces `--max-runtime` and `shutdown_grace` until the run ends.
    private func writeMetrics(_ path: String, _ snapshot: MetricsSnapshot) {
        do {
            try PrometheusText.write(PrometheusText.render(snapshot), to: path)
        } catch {
            logger.warning("cannot write metrics file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// A thread that enforces `--max-runtime` and `shutdown_grace` and calls `tick`
    /// (progress, metrics) every 20 ms until the run ends.
    private func startSupervisor(tick: @escaping () -> Void) -> WorkerThread {
        let started = monotonicSeconds()
        let maxRuntime = options.maxRuntime
        let grace = config.shutdownGrace
        let tick = UncheckedSendable(tick)
        return WorkerThread(name: "sluice-watch") { [self] in
            while true {
                let (finished, stopAt, hard) = lock.withLock { (isFinished, stopRequestedAt, isHardStopped) }
                if finished { return }
                let now = monotonicSeconds()
                if let maxRuntime, stopAt == nil, now - started >= maxRuntime { requestStop(.maxRuntime) }
                if let stopAt, !hard, now - stopAt >= grace {
                    logger.warning("shutdown_grace (\(grace)s) is over: stopping the files still in flight")
                    hardStop()
                }
                tick.value()
                usleep(20_000)
            }
        }
    }

    private func writeSummary(_ summary: RunSummary, outputRoot: String) {
        let data = summary.encoded()
        var targets: [String] = []
        if FileManager.default.fileExists(atPath: outputRoot) {
            targets.append(URL(fileURLWithPath: outputRoot).appendingPathComponent("\(config.name)-\(runID).summary.json").path)
        }
        if let extra = options.summaryPath { targets.append(extra) }
        for path in targets {
            // `.NAME.tmp-RUNID`, like every temporary output: a crash leaves nothing the next
            // run's sweep of the output directory does not remove.
            let url = URL(fileURLWithPath: path)
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(runID)").path
            do {
                try data.write(to: URL(fileURLWithPath: temporary))
                if rename(temporary, path) != 0 { throw SinkError.io(path: path, operation: "rename", errno: errno) }
            } catch {
                logger.error("cannot write run summary", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Hands out file indices in order to reader threads.
final class FileCursor: @unchecked Sendable {
    private let lock = ConditionLock()
    private var next = 0
    private let count: Int
    private var isStopped = false

    init(count: Int) { self.count = count }

    /// No more files are handed out.
    func stop() { lock.withLock { isStopped = true } }

    func take() -> Int? {
        lock.withLock {
            guard next < count, !isStopped else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// Counts live threads of a group; tells the last one out.
final class LiveCount: @unchecked Sendable {
    private let lock = ConditionLock()
    private var live: Int

    init(_ live: Int) { self.live = live }

    /// Returns true for the call that brings the count to zero.
    func decrement() -> Bool {
        lock.withLock {
            live -= 1
            return live == 0
        }
    }
}

/// Per-stage numbers, added to once per batch.
final class StageCounters: @unchecked Sendable {
    struct Delta {
        var recordsIn = 0
        var recordsOut = 0
        var failed = 0
        var filtered = 0
        var dropped = 0
    }

    private let lock = ConditionLock()
    private var sum = Delta()
    private var busy = 0.0

    func add(_ delta: Delta, busy seconds: Double) {
        lock.withLock {
            sum.recordsIn += delta.recordsIn
            sum.recordsOut += delta.recordsOut
            sum.failed += delta.failed
            sum.filtered += delta.filtered
            sum.dropped += delta.dropped
            busy += seconds
        }
    }

    var totals: (recordsIn: Int, recordsOut: Int, failed: Int, filtered: Int, dropped: Int, busy: Double) {
        lock.withLock { (sum.recordsIn, sum.recordsOut, sum.failed, sum.filtered, sum.dropped, busy) }
    }
}

/// The stage a config without stages runs: records pass unchanged.
struct PassThroughStage: Stage {
    func process(_ batch: inout Batch, context: StageContext) {}
}

/// Hands a closure that only one thread at a time runs to another thread.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
