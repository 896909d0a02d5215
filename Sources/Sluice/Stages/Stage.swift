import Logging
import SluiceCore

/// One step of a pipeline, run by the runtime's threads at most `workers` batches at once.
///
/// Contract (what the runtime guarantees and expects):
/// - `process` is called concurrently, at most `workers` calls at once, each with a
///   different batch and from any of the runtime's threads (CPU stages share a pool of
///   as many threads as cores; see ``blocksThread``); a stage holds no per-batch state
///   between calls.
/// - Before the call, every record of the batch is indexed (``RecordSlot/tapeStart``
///   set) when ``needsTape`` is true, so the stage can read records through a
///   ``JSONView`` (`batch.withView`).
/// - Dropping a record on purpose (a filter) removes its slot and adds 1 to
///   ``Batch/filtered``. Failing a record removes its slot and appends a
///   ``RecordError`` (the record goes to the error report; the batch goes on).
/// - Rewriting records means replacing ``Batch/bytes`` and the slots' ranges, with
///   `tapeStart = -1` for records that are no longer indexed (the runtime re-indexes
///   them for the next stage that needs the tape). Keep slot order: it is output order.
/// - `process` must not throw for bad records and must not block forever; output is
///   deterministic: the same batch in gives the same batch out, whatever the thread.
public protocol Stage: Sendable {
    /// Whether `process` reads records through the tape (true for nearly every stage).
    var needsTape: Bool { get }
    /// Whether the stage must see batches one at a time in input order because its
    /// result depends on earlier records (`dedupe`, `limit`); the runtime then runs it
    /// one batch at a time in `(file, batch)` order whatever its `workers` (see
    /// ``StageScheduler``).
    var needsInputOrder: Bool { get }
    /// Whether `process` spends its time waiting rather than computing (a child process,
    /// the network): the runtime then gives the stage its own `workers` threads, so that
    /// waiting never holds one of the core-count threads that run every other stage.
    var blocksThread: Bool { get }
    func process(_ batch: inout Batch, context: StageContext)
    /// Called once per run, after the stage's last `process` call has returned (at the
    /// end of the input or on cancellation): release what the stage holds for the run,
    /// such as child processes. The default does nothing.
    func finish(context: StageContext)
}

extension Stage {
    public var needsTape: Bool { true }
    public var needsInputOrder: Bool { false }
    public var blocksThread: Bool { false }
    public func finish(context: StageContext) {}
}

/// What a stage knows about where it runs.
public struct StageContext: Sendable {
    /// The stage's configured name (the `stage` field of its error lines).
    public var stageName: String
    /// Relative path of each input file, by file index (for the `file` field of error lines).
    public var filePaths: [String]
    /// The run's start in seconds since 1970: what `now()` returns in expressions.
    public var now: Double
    /// The run's logger (a stage logs what it cannot put in an error line).
    public var logger: Logger
    /// The run this stage serves: whether it is stopping, and how to stop it.
    public var control: RunControl

    public init(stageName: String, filePaths: [String], now: Double = 0,
                logger: Logger = Logger(label: "sluice", factory: { _ in SwiftLogNoOpLogHandler() }),
                control: RunControl = RunControl()) {
        self.stageName = stageName
        self.filePaths = filePaths
        self.now = now
        self.logger = logger
        self.control = control
    }

    /// An error line for a record of `batch` that this stage failed.
    public func recordError(_ kind: ErrorKind, _ message: String, batch: Batch, slot: RecordSlot) -> RecordError {
        let bytes = Array(batch.bytes[slot.start..<slot.end])
        return RecordError(
            file: batch.file < filePaths.count ? filePaths[batch.file] : "",
            stage: stageName, kind: kind, message: message,
            line: slot.line > 0 ? slot.line : nil, offset: slot.offset,
            record: slot.tapeStart >= 0 ? .json(bytes) : .raw(bytes, truncated: false))
    }
}

/// What a stage decides for one record when it keeps, drops or fails records in place.
public enum SiftDecision: Sendable {
    case keep
    /// Dropped on purpose; counted as filtered.
    case drop
    /// Failed; becomes an error line of this kind.
    case fail(ErrorKind, String)
}

extension Batch {
    /// Keeps, drops or fails each record according to `decide`, preserving order.
    ///
    /// - Complexity: O(records); no allocation when every record is kept.
    @inline(__always)
    public mutating func sift(context: StageContext, _ decide: (Int) -> SiftDecision) {
        // The kept slots are written into the new array's storage from the first record
        // left out on (not appended one by one: a capacity and uniqueness check per kept
        // record, ~45 instructions in filter and validate, measured); when every record
        // is kept the new array is dropped empty and `records` stays as it is.
        let slots = records
        let count = slots.count
        var changed = false
        let result = [RecordSlot](unsafeUninitializedCapacity: count) { kept, initialized in
            var keptCount = 0
            slots.withUnsafeBufferPointer { source in
                for i in 0..<count {
                    let decision = decide(i)
                    switch decision {
                    case .keep:
                        if changed {
                            (kept.baseAddress! + keptCount).initialize(to: source[i])
                            keptCount &+= 1
                        }
                    case .drop, .fail:
                        if !changed {
                            changed = true
                            kept.baseAddress!.initialize(from: source.baseAddress!, count: i)
                            keptCount = i
                        }
                        if case .fail(let kind, let message) = decision {
                            errors.append(context.recordError(kind, message, batch: self, slot: source[i]))
                        } else {
                            filtered += 1
                        }
                    }
                }
            }
            initialized = changed ? keptCount : 0
        }
        if changed { records = result }
    }
}

extension Batch {
    /// Keeps, drops or fails each record by reading it through a ``JSONView``:
    /// `decide` gets the view and the record's root node. The shared shape of every
    /// stage that judges records in place (filter, validate, sample, dedupe).
    ///
    /// A record that is not indexed fails with `failKind` (the runtime indexes before
    /// every stage that needs the tape, so this only guards misuse).
    @inline(__always)
    public mutating func siftRecords(context: StageContext, failKind: ErrorKind = .transform,
                                     _ decide: (JSONView, Int) -> SiftDecision) {
        // A second handle on the buffers (no copy) lets the view read while `sift` writes.
        let snapshot = Batch(file: file, index: index, bytes: bytes, tape: tape)
        let slots = records
        snapshot.withView { view in
            sift(context: context) { i in
                let root = Int(slots[i].tapeStart)
                guard root >= 0 else { return .fail(failKind, "record was not indexed before stage '\(context.stageName)'") }
                return decide(view, root)
            }
        }
    }
}
