/// The unit that crosses every queue: up to `batch_size` records of one input file.
///
/// A batch owns one contiguous byte buffer holding every record's JSON text (in slot
/// order; the reader may leave the line breaks and blanks of the source between two
/// records, outside every slot), and a slot per record that says where the record's bytes are, where it came
/// from in its source file, and (once indexed) where its nodes are on the batch's tape.
/// Stages read records lazily through ``JSONView``; stages that reshape records write a
/// new buffer. Moving a batch between threads moves three arrays — no per-record
/// allocation crosses a queue.
///
/// The sequence key `(file, index)` orders batches for the sink, which commits them in
/// that order whatever the worker counts (see ``ReorderingSink``).
public struct Batch: Sendable {
    /// Index of the source file in the run's sorted file list.
    public var file: Int
    /// Position of this batch within its file, from 0.
    public var index: Int
    /// Every record's JSON text, in slot order; bytes outside every slot mean nothing.
    public var bytes: [UInt8]
    /// One slot per live record, in source order.
    public var records: [RecordSlot]
    /// Parsed structure of the records (see ``TapeEntry``); empty until indexed.
    public var tape: [TapeEntry]
    /// Record errors raised so far for records of this batch, in source order.
    public var errors: [RecordError]
    /// Number of records that stages dropped on purpose (filter and the like).
    public var filtered: Int
    /// Records whose errors a stage with `on_error: drop` removed (counted, not reported).
    public var dropped: Int = 0
    /// Records stages added beyond one per input record (`explode`).
    public var created: Int = 0
    /// Set by a stage that cannot go on (e.g. `dedupe` past `max_keys`): the run stops
    /// with exit 1 and this message.
    public var fatal: String?
    /// Records the reader framed for this batch (kept slots plus framing errors), set
    /// when the batch enters the first stage.
    public var recordsIn: Int

    public init(file: Int, index: Int, bytes: [UInt8] = [], records: [RecordSlot] = [], tape: [TapeEntry] = [], errors: [RecordError] = []) {
        self.file = file
        self.index = index
        self.bytes = bytes
        self.records = records
        self.tape = tape
        self.errors = errors
        self.filtered = 0
        self.recordsIn = 0
    }

    /// True when every slot has been indexed onto the tape.
    public var isIndexed: Bool { records.allSatisfy { $0.tapeStart >= 0 } }
}

/// Where one record lives in its batch, and where it came from.
public struct RecordSlot: Sendable, Equatable {
    /// Byte range of the record's JSON text in ``Batch/bytes``.
    public var start: Int
    public var end: Int
    /// 1-based line in the (decompressed) source where the record starts; 0 when the format has no lines.
    public var line: Int
    /// Byte offset in the (decompressed) source where the record starts.
    public var offset: Int
    /// Tape range of the record's nodes in ``Batch/tape``; `-1` until indexed.
    public var tapeStart: Int32
    public var tapeEnd: Int32

    public init(start: Int, end: Int, line: Int, offset: Int, tapeStart: Int32 = -1, tapeEnd: Int32 = -1) {
        self.start = start
        self.end = end
        self.line = line
        self.offset = offset
        self.tapeStart = tapeStart
        self.tapeEnd = tapeEnd
    }
}
