import SluiceCore

/// Writes batches to the output and the error report in `(file, batch)` order, and
/// makes each input file all-or-nothing.
///
/// The sink appends a file's batches as they come in sequence; when the file's reader
/// reports a fault, the sink cuts both files back to where that input file began and
/// writes the one error line that names the file — a failed file's records never
/// reach the output, and nothing is buffered per file to achieve that.
///
/// - Backpressure: the sink never blocks on its queue's producers; the number of
///   batches waiting in its reorder buffer is bounded by the ``AdmissionGate``, whose
///   tickets it returns as batches commit.
/// - Cancellation: when its queue is cancelled it stops; the run then discards the
///   temporary files.
// `@unchecked`: the sink's state is touched by one thread at a time — the sink thread
// while it runs, then the run's own thread once that thread has been joined (the join
// orders the two); `onFileCommitted` and `expectedFingerprints` are set before it starts.
package final class ReorderingSink: @unchecked Sendable {
    package struct Result {
        package var filesProcessed = 0
        package var filesFailed = 0
        package var records = RunSummary.Records(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0)
        package var errorLines = 0
        package var fileBytes = 0
        package var decodedBytes = 0
        package var outputBytes = 0
        /// A fatal write error: the run fails.
        package var fatal: String?
        package var isComplete = false
        /// Files the ledger had seen whose content turned out unchanged (only the mtime
        /// moved): their records were rolled back, not written twice.
        package var filesUnchanged = 0
        /// Records that matched no route (also counted as filtered).
        package var unrouted = 0
        /// Records committed per output: route index and partition.
        package var outputRecords: [OutputKey: Int] = [:]
        /// Error lines committed by ``RunSummary/ErrorCounts/key(stage:kind:)``, and per input file.
        package var errorKinds: [String: Int] = [:]
        package var errorFiles: [Int: Int] = [:]
        /// The sink thread's time (see ``RunSummary/SinkStats``).
        package var waitingSeconds = 0.0
        package var writeSeconds = 0.0
        package var sealSeconds = 0.0
        package var spanSeconds = 0.0
    }

    /// One output of the run: a route and a partition of it.
    package struct OutputKey: Hashable {
        package var route: Int
        package var partition: String
    }

    /// One finished input file, in commit order: what the ledger records.
    package struct FileOutcome {
        package enum Status { case done, failed, unchanged }
        package var file: Int
        package var status: Status
        package var fingerprint: UInt64?
        package var fileBytes: Int
        package var failure: RecordError?
    }

    private let files: [InputFile]
    package let outputs: OutputSet
    private var errors: OutputFile
    private var window: ReorderWindow<EncodedBatch>
    package private(set) var result = Result()

    // Where the head input file began in each output, and what it has added so far.
    private var fileErrorStart = 0
    private var fileTotals = (recordsIn: 0, out: 0, filtered: 0, failed: 0, errorLines: 0, dropped: 0, created: 0, unrouted: 0)
    // What the head file added per output and error kind, counted once it commits.
    private var fileOutputs: [OutputKey: Int] = [:]
    private var fileErrorKinds: [String: Int] = [:]
    private var fileStarted = false
    private var endings: [Int: FileEnd] = [:]
    /// Every file committed so far (done, failed or unchanged), in order.
    package private(set) var outcomes: [FileOutcome] = []
    /// Fingerprints from the ledger for files whose mtime moved but size did not: when
    /// the content hashes the same, the file's records are rolled back (see
    /// ``Result/filesUnchanged``).
    package var expectedFingerprints: [Int: UInt64] = [:]
    /// Told of each committed file (progress, metrics, test hooks); called on the sink thread.
    package var onFileCommitted: ((FileOutcome) -> Void)?
    /// Called on the sink thread after each file, between files (`commit_every`: a
    /// checkpoint commits the segment there, see ``startSegment(runID:errorPath:)``). A
    /// throw is fatal for the run.
    package var betweenFiles: (() throws(SinkError) -> Void)?
    /// Where the current checkpoint segment begins in ``outcomes`` (0 without checkpoints).
    package private(set) var segmentStart = 0
    /// The files of the current segment: what its commit records.
    package var segmentOutcomes: ArraySlice<FileOutcome> { outcomes[segmentStart...] }

    package init(files: [InputFile], outputs: OutputSet, errorPath: String, runID: String) throws(SinkError) {
        self.files = files
        self.outputs = outputs
        self.errors = try OutputFile(path: errorPath, runID: runID)
        self.window = ReorderWindow(fileCount: files.count)
    }

    /// Drains `queue` until it closes or is cancelled.
    package func run(queue: BoundedQueue<SinkMessage>, gate: AdmissionGate) {
        gate.advanceHead(to: 0)
        let began = monotonicSeconds()
        defer { result.spanSeconds = monotonicSeconds() - began }
        var waitStart = began
        while !window.isFinished, let message = queue.pop() {
            let popped = monotonicSeconds()
            result.waitingSeconds += popped - waitStart
            defer {
                waitStart = monotonicSeconds()
                result.writeSeconds += waitStart - popped
            }
            switch message {
            case .batch(let batch):
                gate.park(bytes: batch.heldBytes)
                window.insert(batch, file: batch.file, batch: batch.index)
            case .fileEnd(let end):
                finish(end)
            case .lastBatch(let batch, let end):
                gate.park(bytes: batch.heldBytes)
                window.insert(batch, file: batch.file, batch: batch.index)
                finish(end)
            }
            do {
                try drain(gate: gate)
            } catch {
                result.fatal = "\(error)"
                queue.cancel()
                gate.cancel()
                return
            }
        }
        result.isComplete = window.isFinished
    }

    /// The reader is done with a file (its batches may still be on their way).
    private func finish(_ end: FileEnd) {
        window.finishFile(end.file, batches: end.batches, failure: end.failure)
        endings[end.file] = end
        result.fileBytes += end.fileBytes
        result.decodedBytes += end.decodedBytes
    }

    private func drain(gate: AdmissionGate) throws(SinkError) {
        while let action = window.next() {
            switch action {
            case .commit(let batch):
                if let fatal = batch.fatal { throw SinkError.stopped(fatal) }
                if !fileStarted {
                    fileStarted = true
                    outputs.beginFile(batch.file)
                }
                for piece in batch.pieces {
                    try outputs.append(piece)
                    fileOutputs[OutputKey(route: piece.route, partition: piece.partition), default: 0] += piece.records
                }
                for (key, count) in batch.errorKinds { fileErrorKinds[key, default: 0] += count }
                try errors.write(batch.errorLines)
                fileTotals.recordsIn += batch.recordsIn
                fileTotals.out += batch.recordsOut
                fileTotals.filtered += batch.recordsFiltered
                fileTotals.failed += batch.recordsFailed
                fileTotals.errorLines += batch.recordsFailed
                fileTotals.dropped += batch.recordsDropped
                fileTotals.created += batch.recordsCreated
                fileTotals.unrouted += batch.recordsUnrouted
                gate.unpark(bytes: batch.heldBytes)
                gate.release()
            case .fileDone(let file, let failure):
                if !fileStarted { outputs.beginFile(file) }
                let end = endings.removeValue(forKey: file)
                var outcome = FileOutcome(file: file, status: .done, fingerprint: end?.fingerprint,
                                          fileBytes: end?.fileBytes ?? 0, failure: failure)
                if failure == nil, let expected = expectedFingerprints[file], expected == end?.fingerprint {
                    // Touched, not changed: the ledger already holds these records.
                    try outputs.rollBackFile()
                    try errors.truncate(to: fileErrorStart)
                    outcome.status = .unchanged
                    result.filesUnchanged += 1
                } else if let failure {
                    outcome.status = .failed
                    try outputs.rollBackFile()
                    try errors.truncate(to: fileErrorStart)
                    try errors.write(ErrorLineEncoder.encode(failure, discarded: fileTotals.recordsIn))
                    result.errorKinds[RunSummary.ErrorCounts.key(stage: failure.stage, kind: failure.kind.rawValue), default: 0] += 1
                    result.errorFiles[file, default: 0] += 1
                    result.filesFailed += 1
                    result.errorLines += 1
                    result.records.in += fileTotals.recordsIn
                    result.records.discarded += fileTotals.recordsIn
                } else {
                    result.filesProcessed += 1
                    result.errorLines += fileTotals.errorLines
                    result.records.in += fileTotals.recordsIn
                    result.records.out += fileTotals.out
                    result.records.filtered += fileTotals.filtered
                    result.records.failed += fileTotals.failed
                    result.records.dropped += fileTotals.dropped
                    result.records.created += fileTotals.created
                    result.unrouted += fileTotals.unrouted
                    for (key, count) in fileOutputs { result.outputRecords[key, default: 0] += count }
                    for (key, count) in fileErrorKinds { result.errorKinds[key, default: 0] += count }
                    if fileTotals.errorLines > 0 { result.errorFiles[file, default: 0] += fileTotals.errorLines }
                    try outputs.endFile()
                }
                outcomes.append(outcome)
                fileStarted = false
                fileErrorStart = errors.size
                fileTotals = (0, 0, 0, 0, 0, 0, 0, 0)
                fileOutputs.removeAll(keepingCapacity: true)
                fileErrorKinds.removeAll(keepingCapacity: true)
                gate.advanceHead(to: window.headFile)
                onFileCommitted?(outcome)
                try betweenFiles?()
            }
        }
        result.outputBytes = outputs.bytesWritten
    }

    /// Drops what the head file (being written when the run stopped) has added, so that
    /// both files hold exactly the records of ``outcomes``.
    package func abandonUnfinished() throws(SinkError) {
        fileOutputs.removeAll()
        fileErrorKinds.removeAll()
        if fileStarted { try outputs.rollBackFile() }
        fileStarted = false
        try errors.truncate(to: fileErrorStart)
        result.outputBytes = outputs.bytesWritten
    }

    /// Ends every output (footers) and flushes every file to disk, so that the ledger
    /// can name them before the renames: from then on a crash can finish the renames.
    package func seal() throws(SinkError) {
        let began = monotonicSeconds()
        defer { result.sealSeconds += monotonicSeconds() - began }
        try outputs.finish()
        try errors.seal()
        result.outputBytes = outputs.bytesWritten
    }

    /// The final paths of the outputs and the error report.
    package var paths: (outputs: [String], errors: String) { (outputs.paths, errors.path) }

    /// True when the current segment's error report holds no line: it is never put in
    /// place (a run that rejected nothing leaves no error report), nor named by the
    /// ledger or the summary.
    package var errorReportIsEmpty: Bool { errors.size == 0 }

    /// Renames the outputs and, unless it is empty, the error report into place (an
    /// empty one is removed); `between` runs after the first rename (a test hook).
    package func commit(between: () -> Void = {}) throws(SinkError) {
        try outputs.commit(afterFirst: between)
        if errorReportIsEmpty {
            errors.discard()
        } else {
            try errors.commit()
        }
    }

    /// A run that failed its error threshold: removes every output and keeps the error
    /// report, renamed to `errorReport` (never the name a committed run's report has).
    package func withhold(errorReport: String) throws(SinkError) {
        outputs.discard()
        try errors.commit(to: errorReport)
    }

    /// After a checkpoint committed the segment: the next files go to new outputs and a
    /// new error report, named with the next segment's `runID`.
    package func startSegment(runID: String, errorPath: String) throws(SinkError) {
        errors = try OutputFile(path: errorPath, runID: runID)
        outputs.startSegment(runID: runID)
        segmentStart = outcomes.count
        fileErrorStart = 0
    }

    /// Removes the temporary files.
    package func discard() {
        outputs.discard()
        errors.discard()
    }
}
