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
    private let startDate = Date()

    public init(config: PipelineConfig, options: RunOptions, logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
        self.runID = options.runID ?? PipelineRun.makeRunID(date: Date())
    }

    /// `20261129T011212Z-3f9a`: sortable by start time, unique across runs.
    static func makeRunID(date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// The stages as they run: the configured ones, or one pass-through stage when the
    /// config has none (parsing and encoding happen inside stage workers).
    var effectiveStages: [StageSpec] {
        config.stages.isEmpty
            ? [StageSpec(name: "passthrough", kind: "passthrough", workers: 2, queue: 8, stage: PassThroughStage())]
            : config.stages
    }

    /// Stops the run as soon as possible; safe to call from any thread, more than once.
    public func cancel(reason: String = "cancelled") {
        let (queues, sinkQueue, gate): ([BoundedQueue<Batch>], BoundedQueue<SinkMessage>?, AdmissionGate?) = lock.withLock {
            if !isCancelled {
                isCancelled = true
                cancelReason = reason
            }
            return (self.queues, self.sinkQueue, self.gate)
        }
        queues.forEach { $0.cancel() }
        sinkQueue?.cancel()
        gate?.cancel()
    }

    private var wasCancelled: (Bool, String?) { lock.withLock { (isCancelled, cancelReason) } }

    /// Runs to completion (or cancellation) and returns the summary, also written to
    /// the output directory and `--summary`.
    public func run() -> RunSummary {
        let inputRoot = options.inputPath ?? config.input.path
        let outputRoot = options.outputPath ?? config.output.path
        var summary = RunSummary(
            runID: runID, pipeline: config.name, startedAt: PipelineRun.iso8601(startDate), endedAt: "",
            elapsedSeconds: 0, files: .init(seen: 0, processed: 0, failed: 0),
            records: .init(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0),
            bytes: .init(read: 0, decoded: 0, written: 0), stages: [], outputs: [], errorReport: "",
            exitCode: 0, failure: nil)

        func finish(_ code: Int32, _ failure: String?) -> RunSummary {
            summary.exitCode = code
            summary.failure = failure
            let end = Date()
            summary.endedAt = PipelineRun.iso8601(end)
            summary.elapsedSeconds = (end.timeIntervalSince(startDate) * 1000).rounded() / 1000
            writeSummary(summary, outputRoot: outputRoot)
            return summary
        }

        do {
            try FileManager.default.createDirectory(atPath: outputRoot, withIntermediateDirectories: true)
        } catch {
            return finish(1, "cannot create output directory \(outputRoot): \(error.localizedDescription)")
        }
        let files: [InputFile]
        do {
            files = try DirectoryScanner(root: inputRoot, include: config.input.include, exclude: config.input.exclude).scan()
        } catch {
            return finish(1, "\(error)")
        }
        summary.files.seen = files.count

        let stages = effectiveStages
        let extensionName = config.output.compression == .gzip ? "ndjson.gz" : "ndjson"
        let outputPath = URL(fileURLWithPath: outputRoot).appendingPathComponent("\(config.name)-\(runID).\(extensionName)").path
        let errorPath = URL(fileURLWithPath: outputRoot).appendingPathComponent(config.errors.path).path
        let sink: ReorderingSink
        do {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: errorPath).deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true)
            sink = try ReorderingSink(files: files, outputPath: outputPath, errorPath: errorPath, runID: runID)
        } catch {
            return finish(1, "\(error)")
        }

        // Queues: one in front of each stage, one in front of the sink.
        let stageQueues = stages.map { BoundedQueue<Batch>(capacity: $0.queue) }
        let sinkQueue = BoundedQueue<SinkMessage>(capacity: max(8, 2 * (stages.last?.workers ?? 1)))
        let inFlight = stageQueues.reduce(0) { $0 + $1.capacity } + stages.reduce(0) { $0 + $1.workers }
            + config.input.readers + sinkQueue.capacity
        let gate = AdmissionGate(capacity: inFlight)
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
                                      maxRecordBytes: config.input.maxRecordBytes, xml: config.input.xml)
        let encoder = OutputEncoder(compression: config.output.compression, level: config.output.level, filePaths: filePaths)
        let counters = stages.map { _ in StageCounters() }
        var threads: [WorkerThread] = []

        // Sink thread.
        let sinkThread = WorkerThread(name: "sluice-sink") { [gate] in
            sink.run(queue: sinkQueue, gate: gate)
        }

        // Stage workers; the last worker of a stage to finish closes the next queue.
        for (k, spec) in stages.enumerated() {
            let liveWorkers = LiveCount(spec.workers)
            let context = StageContext(stageName: spec.name, filePaths: filePaths)
            let isFirst = k == 0
            let isLast = k == stages.count - 1
            let input = stageQueues[k]
            let next: BoundedQueue<Batch>? = isLast ? nil : stageQueues[k + 1]
            let counter = counters[k]
            let maxDepth = config.input.maxDepth
            for w in 0..<spec.workers {
                threads.append(WorkerThread(name: "sluice-\(k)-\(w)") {
                    while var batch = input.pop() {
                        let started = monotonicSeconds()
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
                        let delta = StageCounters.Delta(
                            recordsIn: inCount, recordsOut: batch.records.count,
                            failed: batch.errors.count - errorsBefore, filtered: batch.filtered - filteredBefore)
                        if let next {
                            counter.add(delta, busy: monotonicSeconds() - started)
                            if !next.push(batch) { break }
                        } else {
                            let encoded = encoder.encode(batch)
                            counter.add(delta, busy: monotonicSeconds() - started)
                            if !sinkQueue.push(.batch(encoded)) { break }
                        }
                    }
                    if liveWorkers.decrement() {
                        if let next { next.close() } else { sinkQueue.close() }
                    }
                })
            }
        }

        // Readers take files in order, so the head file is always being read.
        let nextFile = FileCursor(count: files.count)
        let liveReaders = LiveCount(config.input.readers)
        let firstQueue = stageQueues[0]
        for r in 0..<config.input.readers {
            threads.append(WorkerThread(name: "sluice-read-\(r)") {
                while let index = nextFile.take() {
                    let file = files[index]
                    if let problem = file.problem {
                        let failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: problem)
                        if !sinkQueue.push(.fileEnd(FileEnd(file: index, batches: 0, failure: failure, fileBytes: 0, decodedBytes: 0))) { break }
                        continue
                    }
                    let outcome = FileReader.read(file, fileIndex: index, options: readOptions) { batch in
                        guard gate.acquire(file: index), firstQueue.push(batch) else { throw CancellationError() }
                    }
                    if outcome.cancelled { break }
                    let end = FileEnd(file: index, batches: outcome.batches, failure: outcome.failure,
                                      fileBytes: outcome.fileBytes, decodedBytes: outcome.decodedBytes)
                    if !sinkQueue.push(.fileEnd(end)) { break }
                }
                if liveReaders.decrement() { firstQueue.close() }
            })
        }

        for thread in threads { thread.join() }
        sinkThread.join()

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
                recordsFailed: totals.failed, recordsFiltered: totals.filtered,
                busySeconds: (totals.busy * 1000).rounded() / 1000)
        }
        summary.errorReport = errorPath

        let (cancelled, reason) = wasCancelled
        if let fatal = result.fatal ?? (cancelled ? (reason ?? "cancelled") : nil) {
            sink.discard()
            return finish(1, fatal)
        }
        if !result.isComplete {
            sink.discard()
            return finish(1, "the run stopped before every file was committed")
        }
        do {
            try sink.commit()
        } catch {
            sink.discard()
            return finish(1, "\(error)")
        }
        summary.outputs = [outputPath]

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

    private func writeSummary(_ summary: RunSummary, outputRoot: String) {
        let data = summary.encoded()
        var targets: [String] = []
        if FileManager.default.fileExists(atPath: outputRoot) {
            targets.append(URL(fileURLWithPath: outputRoot).appendingPathComponent("\(config.name)-\(runID).summary.json").path)
        }
        if let extra = options.summaryPath { targets.append(extra) }
        for path in targets {
            let temporary = path + ".tmp-\(runID)"
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

    init(count: Int) { self.count = count }

    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
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
            busy += seconds
        }
    }

    var totals: (recordsIn: Int, recordsOut: Int, failed: Int, filtered: Int, busy: Double) {
        lock.withLock { (sum.recordsIn, sum.recordsOut, sum.failed, sum.filtered, busy) }
    }
}

/// The stage a config without stages runs: records pass unchanged.
struct PassThroughStage: Stage {
    func process(_ batch: inout Batch, context: StageContext) {}
}
