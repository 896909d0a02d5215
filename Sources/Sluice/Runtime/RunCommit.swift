import Foundation
import SluiceCore
import SluiceIO

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

    /// The ledger's record of every file the sink finished in the current segment (the
    /// whole run without `commit_every`), in commit order.
    func ledgerOutcomes() -> [Ledger.FileOutcome] {
        sink.segmentOutcomes.map { outcome in
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
    var writesOutputs: Bool { sink.segmentOutcomes.contains { $0.status != .unchanged } }

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

/// `commit_every`: when a run commits its finished files before its end. Either bound
/// (or both) may be set; a checkpoint is due after `files` files, or once `interval`
/// seconds have passed since the last one, whichever comes first.
public struct CommitEvery: Sendable, Equatable {
    /// Seconds between checkpoints.
    public var interval: Double?
    /// Files (done, failed or unchanged) between checkpoints.
    public var files: Int?

    public init(interval: Double? = nil, files: Int? = nil) {
        self.interval = interval
        self.files = files
    }

    var isEnabled: Bool { interval != nil || files != nil }
}

/// Checkpoints during a run (`commit_every`): between two files, the sink thread commits
/// the files finished since the last checkpoint with the run's own protocol (``RunCommit``:
/// seal, ledger step 1, renames, ledger step 3), then starts new outputs. A `kill -9`
/// then loses at most the files since the last checkpoint; the next run's recovery and
/// ledger see each checkpoint as a committed run.
///
/// Each segment has its own id, `RUNID.c0001`, `RUNID.c0002`, …, in its outputs'
/// names (`NAME-RUNID.c0001.ndjson`), its error report and the ledger. Segments cut by
/// file count fall at the same files whatever the worker counts, so the output bytes of
/// a given schedule are deterministic; an `interval` cuts at whichever file is finished
/// when the time is up, so its parts may split differently from run to run (the
/// records and their order are the same).
///
/// A checkpoint commits only while the run is within its error threshold: past it the
/// rest of the run is one segment, which the run's end withholds (earlier checkpoints
/// stay committed).
// `@unchecked`: touched by the sink thread while it runs, then by the run's thread once
// that thread is joined (the join orders the two), like ``ReorderingSink``.
final class Checkpoints: @unchecked Sendable {
    let schedule: CommitEvery
    let runID: String
    private(set) var segment = 1
    private var filesInSegment = 0
    private var segmentStartedAt = monotonicSeconds()
    /// Outputs and error reports that earlier checkpoints committed.
    private(set) var committedOutputs: [String] = []
    private(set) var committedReports: [String] = []
    private(set) var committedBytes = 0

    init(schedule: CommitEvery, runID: String) {
        self.schedule = schedule
        self.runID = runID
    }

    /// The current segment's id.
    var segmentID: String { runID + ".c" + String(format: "%04d", segment) }

    /// One more file is finished: is a checkpoint due?
    func fileFinished(now: Double = monotonicSeconds()) -> Bool {
        filesInSegment += 1
        if let files = schedule.files, filesInSegment >= files { return true }
        if let interval = schedule.interval, now - segmentStartedAt >= interval { return true }
        return false
    }

    /// Commits the current segment (`commit`, whose run id is ``segmentID``) and moves to
    /// the next one; `startNext` opens its outputs.
    func checkpoint(_ commit: RunCommit, afterCommit: () -> Void, startNext: (String) throws(SinkError) -> Void) throws {
        let wrote = commit.writesOutputs
        try commit.run()
        if wrote {
            committedOutputs += commit.sink.paths.outputs
            committedReports.append(commit.sink.paths.errors)
            committedBytes += commit.sink.result.outputBytes
        }
        afterCommit()
        TestHook.pause("after-checkpoint-\(segment)", until: commit.isReleased)
        segment += 1
        filesInSegment = 0
        segmentStartedAt = monotonicSeconds()
        try startNext(segmentID)
    }
}
