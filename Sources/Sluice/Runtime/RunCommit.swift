import Foundation

/// The commit protocol of a run: what makes its outputs and its ledger entries appear
/// together or not at all (see ``Ledger`` for the three steps and the recovery).
///
/// 1. Seal: every output ends (footers) and is flushed to disk under its temporary name.
/// 2. Ledger step 1 (`prepare`): the run, its outputs and its files' outcomes, pending.
/// 3. Renames: every output, then the error report, into place.
/// 4. Ledger step 3 (`finalize`): the files become done; the run is committed.
///
/// A crash before 2 leaves temporary files the next run removes; between 2 and 4, the
/// next run's recovery finishes the renames or rolls them back. Test pause points
/// (``TestHook``) sit between the steps.
struct RunCommit {
    let sink: ReorderingSink
    let ledger: Ledger
    let files: [InputFile]
    let outputRoot: String
    let runID: String
    let pipeline: String
    /// Releases a test pause point early (the run was asked to stop).
    let isReleased: () -> Bool

    /// The ledger's record of every file the sink finished, in commit order.
    func ledgerOutcomes() -> [Ledger.FileOutcome] {
        sink.outcomes.map { outcome in
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
    }

    /// Whether any file added records or error lines (else nothing is renamed).
    var writesOutputs: Bool { sink.outcomes.contains { $0.status != .unchanged } }

    /// Runs the protocol. On a throw, the caller discards the temporary files and lets
    /// the ledger's recovery undo a prepared step.
    func run() throws {
        let wroteOutputs = writesOutputs
        if wroteOutputs { try sink.seal() }
        let outputs = wroteOutputs ? sink.paths.outputs.map(relative) + [relative(sink.paths.errors)] : []
        try ledger.prepare(runID: runID, pipeline: pipeline, outputs: outputs, files: ledgerOutcomes())
        TestHook.pause("before-rename", until: isReleased)
        if wroteOutputs {
            try sink.commit(between: { TestHook.pause("between-renames", until: isReleased) })
        } else {
            sink.discard()
        }
        TestHook.pause("after-rename", until: isReleased)
        try ledger.finalize(runID: runID)
        TestHook.pause("after-ledger", until: isReleased)
    }

    /// A run past its error threshold (`errors.on_threshold: fail`): no output is renamed
    /// into place and no file is marked done; the error report is kept as `errorReport`
    /// (`errors-RUNID.failed.ndjson`) and the files that failed as a whole count toward
    /// the retry cap (see ``Ledger/recordFailures(runID:pipeline:files:)``).
    func withhold(errorReport: String) throws {
        try sink.withhold(errorReport: errorReport)
        try ledger.recordFailures(runID: runID, pipeline: pipeline, files: ledgerOutcomes())
    }

    /// `path` relative to the output directory, as the ledger stores it.
    private func relative(_ path: String) -> String {
        let root = URL(fileURLWithPath: outputRoot).standardizedFileURL.path + "/"
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        return full.hasPrefix(root) ? String(full.dropFirst(root.count)) : full
    }
}
