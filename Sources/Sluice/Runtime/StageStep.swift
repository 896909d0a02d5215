import SluiceCore
import SluiceStages

/// One stage's work on one batch, as the runtime wraps it around ``Stage/process(_:context:)``:
/// index the records the stage reads, process, apply the stage's `on_error` policy, and
/// say what changed. The same for every stage kind and every executor thread.
struct StageStep: Sendable {
    let spec: StageSpec
    let context: StageContext
    /// The first stage also indexes what the reader framed (errors: stage `input`, kind `parse`).
    let isFirst: Bool
    let maxDepth: Int

    /// Runs the stage on `batch`; returns what it did, or nil for a batch that already
    /// carries a stop request (it passes through untouched: the sink stops the run when
    /// it reaches it in input order).
    func apply(_ batch: inout Batch) -> StageCounters.Delta? {
        if batch.fatal != nil { return nil }
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
        if failed > 0 && spec.onError == .drop {
            batch.errors.removeSubrange(errorsBefore...)
            batch.dropped += failed
            dropped = failed
            failed = 0
        }
        if let fatal = batch.fatal {
            batch.fatal = "stage '\(spec.name)' failed: \(fatal)"
        } else if failed > 0 && spec.onError == .fail {
            let first = batch.errors[errorsBefore]
            let place = first.line.map { "\(first.file):\($0)" } ?? first.file
            batch.fatal = "stage '\(spec.name)' failed a record (on_error: fail) at \(place): \(first.message)"
        }
        return StageCounters.Delta(recordsIn: inCount, recordsOut: batch.records.count, failed: failed,
                                   filtered: batch.filtered - filteredBefore, dropped: dropped)
    }
}
