/// Runs a stage's batches one at a time in input order — `(file, batch)` order, as the
/// sink commits them — for stages whose result depends on what came before (`dedupe`,
/// `limit`), so that their output is the same whatever the worker counts.
///
/// Batches reach a stage out of order (workers of the previous stage race, readers read
/// several files at once). A worker hands its batch to ``submit(_:)``: if it is the next
/// one in order and no other thread is running the stage, the worker runs it, then any
/// parked batches that have become next; otherwise the batch is parked and the worker
/// goes back to its queue (it never waits, so the batch that is next can always be
/// popped). Readers report each file's batch count with ``fileEnded(_:batches:)``, which
/// may itself make a parked batch next and run it.
///
/// - Backpressure: parked batches hold their admission tickets, so their number is
///   bounded by the ``AdmissionGate``; the batch that is next is always of a file at or
///   after the sink's head file, which the gate always admits, so parking cannot deadlock.
/// - Cancellation: `run` returning false (a queue was cancelled) stops the drain.
final class InputOrderSequencer: @unchecked Sendable {
    private let lock = ConditionLock()
    private var parked: [BatchKey: Batch] = [:]
    private var batchCounts: [Int: Int] = [:]
    private var next = BatchKey(file: 0, index: 0)
    private var isRunning = false
    private var stopped = false
    /// Processes one batch and passes it on; false when the run is cancelled.
    private let run: @Sendable (Batch) -> Bool

    struct BatchKey: Hashable {
        var file: Int
        var index: Int
    }

    init(run: @escaping @Sendable (Batch) -> Bool) {
        self.run = run
    }

    func submit(_ batch: Batch) {
        lock.withLock { parked[BatchKey(file: batch.file, index: batch.index)] = batch }
        drain()
    }

    /// File `file` produced `batches` batches (reported once the reader is done with it).
    func fileEnded(_ file: Int, batches: Int) {
        lock.withLock { batchCounts[file] = batches }
        drain()
    }

    /// Runs parked batches while the next one in order is there and no one else runs.
    private func drain() {
        while true {
            let batch: Batch? = lock.withLock {
                guard !isRunning, !stopped else { return nil }
                advancePastEndedFiles()
                guard let batch = parked.removeValue(forKey: next) else { return nil }
                isRunning = true
                return batch
            }
            guard let batch else { return }
            let ok = run(batch)
            lock.withLock {
                isRunning = false
                next.index += 1
                if !ok { stopped = true }
            }
        }
    }

    private func advancePastEndedFiles() {
        while let count = batchCounts[next.file], next.index >= count {
            batchCounts[next.file] = nil
            next = BatchKey(file: next.file + 1, index: 0)
        }
    }

    /// Batches still parked (0 once every file has ended and drained).
    var parkedCount: Int { lock.withLock { parked.count } }
}
