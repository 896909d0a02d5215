import Foundation
import Logging
import SluiceCore
import SluiceStages
import SluiceIO

/// The data path of one run, wired and run to the end: reader threads, the
/// ``StageExecutor``, the sink thread and the supervisor, all joined before ``execute()``
/// returns.
///
/// ```
///  readers ──batches, file endings──▶ stage 1 ▶ … ▶ stage N ──▶ sink queue ──▶ ReorderingSink
///  (FileCursor, AdmissionGate)        (StageExecutor: core-count threads)       (one thread)
/// ```
///
/// File endings take the batches' path: a reader hands them to the executor, which
/// passes them down the stages (an input-order stage needs them to move past a file) and
/// into the sink queue behind the batches of their file.
struct RunExecution {
    let config: PipelineConfig
    let options: RunOptions
    let files: [InputFile]
    let stages: [StageSpec]
    let sink: ReorderingSink
    let storage: RunStorage
    let logger: Logger
    let startDate: Date
    /// Files seen and skipped (for the metrics file while the run goes).
    let filesSeen: Int
    let filesSkipped: Int

    /// What the stages did, and where the time went, for the summary.
    struct Outcome {
        var stages: [RunSummary.StageStats]
        var readers: RunSummary.ReaderStats
        /// Seconds the stage threads spent encoding output for the sink.
        var encodeSeconds: Double
        var sinkQueue: (capacity: Int, highWater: Int)
        var timeline: RunSummary.Timeline
        var stageThreads: Int
        var cores: Int
        var batchSize: Int
    }

    /// The reader threads' time, summed over threads.
    struct ReaderTotals {
        var busy = 0.0
        var decode = 0.0
        var blocked = 0.0
        /// Running stage work (``StageExecutor/readersRun``): neither reading nor blocked.
        var stageWork = 0.0
        var span = 0.0

        /// Adds one thread's times.
        mutating func add(_ thread: ReaderTotals) {
            (busy, decode, blocked) = (busy + thread.busy, decode + thread.decode, blocked + thread.blocked)
            (stageWork, span) = (stageWork + thread.stageWork, span + thread.span)
        }
    }

    func execute() -> Outcome {
        let sizing = PipelinePlan(config: config, stages: stages)
        let sinkQueue = BoundedQueue<SinkMessage>(capacity: sizing.sinkQueue)
        let gate = AdmissionGate(capacity: sizing.batchesInFlight + sizing.reorderBatches,
                                 parkedByteCapacity: sizing.reorderBatches > 0 ? sizing.reorderBytes : .max)
        let filePaths = files.map(\.relativePath)
        let encoder = OutputEncoder(routes: config.output.effectiveRoutes, filePaths: filePaths, maxDepth: config.input.maxDepth)
        let counters = stages.map { _ in StageCounters() }
        let now = (options.now ?? startDate).timeIntervalSince1970
        let steps = stages.enumerated().map { k, spec in
            StageStep(spec: spec,
                      context: StageContext(stageName: spec.name, filePaths: filePaths, now: now, logger: logger, control: self.storage.control),
                      isFirst: k == 0, maxDepth: config.input.maxDepth)
        }
        let cores = options.stageThreads ?? ProcessorCount.available
        let executor = StageExecutor(steps: steps, counters: counters, fileCount: files.count, encoder: encoder, sink: sinkQueue,
                                     cores: cores, readers: config.input.readers)
        let cursor = FileCursor(count: files.count)

        // The sink: a write error or a stage's stop request ends it; then stop everything
        // else too, or producers would wait on queues nobody drains.
        let sink = self.sink
        let storage = self.storage
        let sinkThread = WorkerThread(name: "sluice-sink") {
            sink.run(queue: sinkQueue, gate: gate)
            if let fatal = sink.result.fatal { storage.cancel(reason: fatal) }
        }
        let stagesStart = monotonicSeconds()
        executor.start()
        storage.start(.init(executor: executor, sinkQueue: sinkQueue, gate: gate, cursor: cursor))

        let stats: @Sendable () -> [RunSummary.StageStats] = {
            Self.stageStats(stages, counters: counters, highWater: executor.queueNumbers.highWater,
                            times: executor.slotTimes.stages)
        }
        let timeline = LockedBox(RunTimeline(stages: stages.count))
        let supervisor = startSupervisor(files: files, stages: stages, counters: counters, executor: executor,
                                         sinkQueue: sinkQueue, timeline: timeline, stats: stats)
        let readerTotals = LockedBox(ReaderTotals())
        let readers = startReaders(executor: executor, gate: gate, cursor: cursor, totals: readerTotals)

        for reader in readers { reader.join() }
        executor.join()
        let stagesWall = monotonicSeconds() - stagesStart
        sinkThread.join()
        storage.threadsJoined()
        supervisor.join()
        let finalStats = stats()
        let series = timeline.withLock { line in
            line.finish(at: monotonicSeconds(), records: counters.map(\.totals.recordsIn))
            return line.summary(names: stages.map(\.name))
        }
        let r = readerTotals.withLock { $0 }
        let readerStats = RunSummary.ReaderStats(
            threads: config.input.readers, busySeconds: Self.rounded(r.busy), decodeSeconds: Self.rounded(r.decode),
            frameSeconds: Self.rounded(max(0, r.busy - r.decode)), blockedSeconds: Self.rounded(r.blocked),
            spanSeconds: Self.rounded(r.span),
            utilisation: Self.ratio(r.busy, Double(max(1, config.input.readers)) * stagesWall))
        return Outcome(stages: finalStats, readers: readerStats, encodeSeconds: executor.slotTimes.encodeSeconds,
                       sinkQueue: (sizing.sinkQueue, sinkQueue.highWaterMark), timeline: series,
                       stageThreads: executor.sharedThreads, cores: cores, batchSize: config.batchSize)
    }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
    static func ratio(_ part: Double, _ whole: Double) -> Double {
        whole > 0 ? (min(1, part / whole) * 1000).rounded() / 1000 : 0
    }

    /// Summary numbers of every stage (the summary and the metrics file use the same).
    static func stageStats(_ stages: [StageSpec], counters: [StageCounters], highWater: [Int],
                           times: [StageScheduler.SlotTimes]) -> [RunSummary.StageStats] {
        stages.indices.map { k in
            let spec = stages[k]
            let totals = counters[k].totals
            let time = k < times.count ? times[k] : StageScheduler.SlotTimes()
            let slots = spec.stage.needsInputOrder ? 1 : max(1, spec.workers)
            var stats = RunSummary.StageStats(
                name: spec.name, kind: spec.kind, workers: spec.workers, queueCapacity: spec.queue,
                queueHighWater: highWater[k], recordsIn: totals.recordsIn, recordsOut: totals.recordsOut,
                recordsFailed: totals.failed, recordsFiltered: totals.filtered, recordsDropped: totals.dropped,
                busySeconds: rounded(time.busy))
            stats.waitingSeconds = rounded(time.waiting)
            stats.blockedSeconds = rounded(time.blocked)
            stats.readySeconds = rounded(time.ready)
            stats.spanSeconds = rounded(time.span)
            stats.utilisation = ratio(time.busy, Double(slots) * time.span)
            return stats
        }
    }

    /// `readers` threads taking files in order, so the head file is always being read.
    private func startReaders(executor: StageExecutor, gate: AdmissionGate, cursor: FileCursor,
                              totals: LockedBox<ReaderTotals>) -> [WorkerThread] {
        let files = self.files
        var options = ReadOptions(format: config.input.format, batchSize: config.batchSize,
                                  maxRecordBytes: config.input.maxRecordBytes, maxBatchBytes: config.input.maxBatchBytes,
                                  xml: config.input.xml)
        options.codecs = config.input.codecs   // input.max_window
        options.concurrentFiles = min(config.input.readers, files.count)   // input.xml.split: auto
        let readOptions = options
        let logger = self.logger
        let live = LockedBox(config.input.readers)
        return (0..<config.input.readers).map { r in
            WorkerThread(name: "sluice-read-\(r)") {
                do {   // the reader's own time ends here (`defer`), before it serves the stages
                    // Two clock reads per batch and per file: the time blocked on the queues
                    // is what the time in `read` is not busy with.
                    let threadStart = monotonicSeconds()
                    var mine = ReaderTotals()
                    defer {
                        mine.span = monotonicSeconds() - threadStart
                        totals.withLock { $0.add(mine) }
                    }
                    func ended(_ end: FileEnd) -> Bool {
                        let started = monotonicSeconds()
                        defer { mine.blocked += monotonicSeconds() - started }
                        return executor.fileEnded(end)
                    }
                    while let index = cursor.take() {
                        let file = files[index]
                        if logger.logLevel <= .info {   // --verbose: beside FileLog's "done" line
                            let from = file.start.map { $0.skipsAnything ? ", from byte \($0.offset) (grew)" : "" } ?? ""
                            logger.info("file \(index + 1)/\(files.count) \(file.relativePath): started, \(file.size) bytes\(from)")
                        }
                        if let problem = file.problem {
                            let failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: problem)
                            if !ended(FileEnd(file: index, batches: 0, failure: failure, fileBytes: 0, decodedBytes: 0)) { break }
                            continue
                        }
                        let readStart = monotonicSeconds()
                        var blocked = 0.0
                        var ran = 0.0
                        // Each batch is handed on when the next one comes, and the last with the
                        // file's ending (see `StageExecutor.submit(_:ending:)`).
                        var held: Batch?
                        let outcome = FileReader.read(file, fileIndex: index, options: readOptions) { batch in
                            if let previous = held.take() {
                                let started = monotonicSeconds()
                                let ranBefore = ran
                                defer { blocked += monotonicSeconds() - started - (ran - ranBefore) }
                                guard executor.hand(previous, ending: nil, gate: gate, file: index, ran: &ran) else { throw CancellationError() }
                            }
                            held = batch
                        }
                        mine.busy += monotonicSeconds() - readStart - blocked - ran
                        mine.blocked += blocked
                        mine.stageWork += ran
                        mine.decode += outcome.timing.decodeSeconds
                        if outcome.cancelled { break }
                        for warning in outcome.warnings { logger.warning("\(file.relativePath): \(warning)") }   // e.g. zero padding
                        let end = FileEnd(file: index, batches: outcome.batches, failure: outcome.failure,
                                          fileBytes: outcome.fileBytes, decodedBytes: outcome.decodedBytes,
                                          fingerprint: outcome.fingerprint)
                        if let last = held.take() {
                            let started = monotonicSeconds()
                            var ran = 0.0
                            let submitted = executor.hand(last, ending: end, gate: gate, file: index, ran: &ran)
                            mine.blocked += monotonicSeconds() - started - ran
                            mine.stageWork += ran
                            if !submitted { break }
                        } else if !ended(end) {
                            break
                        }
                    }
                    let isLast = live.withLock { count -> Bool in
                        count -= 1
                        return count == 0
                    }
                    if isLast { executor.inputFinished() }
                }
                // Its files are done: the thread's core goes on with the stages.
                if executor.readersRun { executor.serveAsSharedThread() }
            }
        }
    }

    /// A thread that enforces `--max-runtime` and `shutdown_grace`, draws the progress line
    /// and rewrites the metrics file, every 20 ms until the threads are joined.
    private func startSupervisor(files: [InputFile], stages: [StageSpec], counters: [StageCounters],
                                 executor: StageExecutor, sinkQueue: BoundedQueue<SinkMessage>,
                                 timeline: LockedBox<RunTimeline>,
                                 stats: @escaping @Sendable () -> [RunSummary.StageStats]) -> WorkerThread {
        let progress = RunProgress()
        sink.onFileCommitted = { [previous = sink.onFileCommitted] outcome in
            progress.fileCommitted(failed: outcome.status == .failed, bytes: outcome.fileBytes)
            previous?(outcome)
        }
        let totalBytes = files.reduce(0) { $0 + $1.size }
        let fileCount = files.count
        let runStart = monotonicSeconds()
        let options = self.options, storage = self.storage, grace = config.shutdownGrace
        let metrics = RunMetricsWriter(pipeline: config.name, logger: logger)
        let seen = filesSeen, skipped = filesSkipped
        return WorkerThread(name: "sluice-watch") {
            var lastProgress = 0.0, lastMetrics = runStart, lastSample = 0.0
            while storage.isSupervised {
                storage.tick(startedAt: runStart, maxRuntime: options.maxRuntime, grace: grace)
                let now = monotonicSeconds()
                if now - lastSample >= 0.05 {
                    // A few observations per timeline bucket (250 ms at first), averaged.
                    lastSample = now
                    let fills = executor.queueNumbers.fills
                    let records = counters.map(\.totals.recordsIn)
                    let sinkDepth = sinkQueue.fill
                    timeline.withLock { $0.observe(at: now, depths: fills, sinkDepth: sinkDepth, records: records) }
                }
                let wantsProgress = options.progress != nil && now - lastProgress >= 0.5
                let wantsMetrics = options.metricsPath != nil && now - lastMetrics >= options.metricsInterval
                if wantsProgress || wantsMetrics {
                    let done = progress.totals
                    let firstIn = counters.first?.totals.recordsIn ?? 0
                    let lastOut = counters.last?.totals.recordsOut ?? 0
                    if wantsProgress, let show = options.progress {
                        lastProgress = now
                        let fills = executor.queueNumbers.fills
                        show(ProgressText.line(files: done.files, totalFiles: fileCount, bytes: done.bytes, totalBytes: totalBytes,
                                               records: firstIn, elapsed: now - runStart,
                                               queues: zip(stages, fills).map { ($0.name, $1, $0.queue) }))
                    }
                    if wantsMetrics, let path = options.metricsPath {
                        lastMetrics = now
                        metrics.write(path, MetricsSnapshot(
                            pipeline: metrics.pipeline, durationSeconds: now - runStart, filesSeen: seen,
                            filesProcessed: done.files - done.failed, filesFailed: done.failed, filesSkipped: skipped,
                            filesLeft: fileCount - done.files, recordsIn: firstIn, recordsOut: lastOut, stages: stats(),
                            exitCode: nil, lastSuccess: PrometheusText.lastSuccess(in: path),
                            queueDepths: executor.queueNumbers.fills))
                    }
                }
                usleep(20_000)
            }
        }
    }
}

extension RunSummary {
    /// Adds where the run's time went, what each output got and the errors by kind.
    mutating func addAccounting(_ outcome: RunExecution.Outcome, sink result: ReorderingSink.Result,
                                routes: [OutputRoute], files: [InputFile]) {
        readers = outcome.readers
        stageThreads = outcome.stageThreads
        cores = outcome.cores
        batchSize = outcome.batchSize
        timeline = outcome.timeline
        sink = SinkStats(encodeSeconds: RunExecution.rounded(outcome.encodeSeconds),
                         writeSeconds: RunExecution.rounded(result.writeSeconds),
                         waitingSeconds: RunExecution.rounded(result.waitingSeconds),
                         sealSeconds: RunExecution.rounded(result.sealSeconds),
                         spanSeconds: RunExecution.rounded(result.spanSeconds),
                         queueCapacity: outcome.sinkQueue.capacity, queueHighWater: outcome.sinkQueue.highWater,
                         utilisation: RunExecution.ratio(result.writeSeconds, result.spanSeconds))
        outputRecords = result.outputRecords.map { key, count in
            OutputRecords(route: key.route < routes.count ? routes[key.route].name : "\(key.route)", partition: key.partition, records: count)
        }.sorted { ($0.route, $0.partition) < ($1.route, $1.partition) }
        var byFile: [String: Int] = [:]
        for (file, count) in result.errorFiles where file < files.count { byFile[files[file].relativePath, default: 0] += count }
        errors = ErrorCounts(kinds: result.errorKinds, files: byFile)
    }

    /// The sink's seal (footers, fsync) is timed at the commit, after the accounting.
    mutating func addSealTime(_ result: ReorderingSink.Result) {
        sink?.sealSeconds = RunExecution.rounded(result.sealSeconds)
    }
}
