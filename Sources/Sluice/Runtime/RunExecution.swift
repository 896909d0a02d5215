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

    /// What the stages did, for the summary.
    struct Outcome {
        var stages: [RunSummary.StageStats]
    }

    func execute() -> Outcome {
        let sizing = PipelinePlan(config: config, stages: stages)
        let sinkQueue = BoundedQueue<SinkMessage>(capacity: sizing.sinkQueue)
        let gate = AdmissionGate(capacity: sizing.batchesInFlight)
        let filePaths = files.map(\.relativePath)
        let encoder = OutputEncoder(routes: config.output.effectiveRoutes, filePaths: filePaths, maxDepth: config.input.maxDepth)
        let counters = stages.map { _ in StageCounters() }
        let now = (options.now ?? startDate).timeIntervalSince1970
        let steps = stages.enumerated().map { k, spec in
            StageStep(spec: spec,
                      context: StageContext(stageName: spec.name, filePaths: filePaths, now: now, logger: logger, control: self.storage.control),
                      isFirst: k == 0, maxDepth: config.input.maxDepth)
        }
        let executor = StageExecutor(steps: steps, counters: counters, fileCount: files.count, encoder: encoder, sink: sinkQueue,
                                     cores: options.stageThreads ?? ProcessorCount.available)
        let cursor = FileCursor(count: files.count)

        // The sink: a write error or a stage's stop request ends it; then stop everything
        // else too, or producers would wait on queues nobody drains.
        let sink = self.sink
        let storage = self.storage
        let sinkThread = WorkerThread(name: "sluice-sink") {
            sink.run(queue: sinkQueue, gate: gate)
            if let fatal = sink.result.fatal { storage.cancel(reason: fatal) }
        }
        executor.start()
        storage.start(.init(executor: executor, sinkQueue: sinkQueue, gate: gate, cursor: cursor))

        let stats: @Sendable () -> [RunSummary.StageStats] = {
            Self.stageStats(stages, counters: counters, highWater: executor.queueNumbers.highWater)
        }
        let supervisor = startSupervisor(files: files, stages: stages, counters: counters, executor: executor, stats: stats)
        let readers = startReaders(executor: executor, gate: gate, cursor: cursor)

        for reader in readers { reader.join() }
        executor.join()
        sinkThread.join()
        storage.threadsJoined()
        supervisor.join()
        return Outcome(stages: stats())
    }

    /// Summary numbers of every stage (the summary and the metrics file use the same).
    static func stageStats(_ stages: [StageSpec], counters: [StageCounters], highWater: [Int]) -> [RunSummary.StageStats] {
        zip(stages, zip(counters, highWater)).map { spec, pair in
            let totals = pair.0.totals
            return RunSummary.StageStats(
                name: spec.name, kind: spec.kind, workers: spec.workers, queueCapacity: spec.queue,
                queueHighWater: pair.1, recordsIn: totals.recordsIn, recordsOut: totals.recordsOut,
                recordsFailed: totals.failed, recordsFiltered: totals.filtered, recordsDropped: totals.dropped,
                busySeconds: (totals.busy * 1000).rounded() / 1000)
        }
    }

    /// `readers` threads taking files in order, so the head file is always being read.
    private func startReaders(executor: StageExecutor, gate: AdmissionGate, cursor: FileCursor) -> [WorkerThread] {
        let files = self.files
        var options = ReadOptions(format: config.input.format, batchSize: config.batchSize,
                                  maxRecordBytes: config.input.maxRecordBytes, maxBatchBytes: config.input.maxBatchBytes,
                                  xml: config.input.xml)
        options.codecs = config.input.codecs   // input.max_window
        let readOptions = options
        let logger = self.logger
        let live = LockedBox(config.input.readers)
        return (0..<config.input.readers).map { r in
            WorkerThread(name: "sluice-read-\(r)") {
                while let index = cursor.take() {
                    let file = files[index]
                    if let problem = file.problem {
                        let failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: problem)
                        if !executor.fileEnded(FileEnd(file: index, batches: 0, failure: failure, fileBytes: 0, decodedBytes: 0)) { break }
                        continue
                    }
                    let outcome = FileReader.read(file, fileIndex: index, options: readOptions) { batch in
                        guard gate.acquire(file: index), executor.submit(batch) else { throw CancellationError() }
                    }
                    if outcome.cancelled { break }
                    for warning in outcome.warnings { logger.warning("\(file.relativePath): \(warning)") }   // e.g. zero padding
                    let end = FileEnd(file: index, batches: outcome.batches, failure: outcome.failure,
                                      fileBytes: outcome.fileBytes, decodedBytes: outcome.decodedBytes,
                                      fingerprint: outcome.fingerprint)
                    if !executor.fileEnded(end) { break }
                }
                let isLast = live.withLock { count -> Bool in
                    count -= 1
                    return count == 0
                }
                if isLast { executor.inputFinished() }
            }
        }
    }

    /// A thread that enforces `--max-runtime` and `shutdown_grace`, draws the progress line
    /// and rewrites the metrics file, every 20 ms until the threads are joined.
    private func startSupervisor(files: [InputFile], stages: [StageSpec], counters: [StageCounters],
                                 executor: StageExecutor,
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
            var lastProgress = 0.0, lastMetrics = runStart
            while storage.isSupervised {
                storage.tick(startedAt: runStart, maxRuntime: options.maxRuntime, grace: grace)
                let now = monotonicSeconds()
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
                            exitCode: nil, lastSuccess: PrometheusText.lastSuccess(in: path)))
                    }
                }
                usleep(20_000)
            }
        }
    }
}
