import SluiceCore

/// Fills batches with framed records and hands each full one to `emit`.
///
/// Framers append a record's bytes to ``batch``'s buffer themselves (so a record that
/// spans read chunks is copied once) and then call ``commit(start:line:offset:emit:)``.
/// A batch is emitted when its records plus errors reach `batchSize` or its buffer passes
/// `maxBatchBytes`; commits happen only at record boundaries, so an emitted batch never
/// holds part of a record.
struct BatchAssembler {
    /// The batch being filled; framers append record bytes to `batch.bytes`.
    var batch: Batch
    /// Relative path of the file, for error lines.
    package let file: String
    private(set) var emittedBatches = 0
    private(set) var emittedRecords = 0
    private let batchSize: Int
    private let maxBatchBytes: Int

    init(fileIndex: Int, file: String, options: ReadOptions) {
        self.file = file
        batchSize = options.batchSize
        maxBatchBytes = options.maxBatchBytes
        batch = Batch(file: fileIndex, index: 0)
        batch.records.reserveCapacity(min(batchSize, 4096))
    }

    /// Records the bytes from `start` to the end of the buffer as one record.
    package mutating func commit(start: Int, line: Int, offset: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        batch.records.append(RecordSlot(start: start, end: batch.bytes.count, line: line, offset: offset))
        if batch.records.count + batch.errors.count >= batchSize || batch.bytes.count >= maxBatchBytes {
            try flush(emit: emit)
        }
    }

    /// How many leading bytes of an oversized record its error line shows.
    static let shownPrefix = 1024

    /// Adds a `limit` error for a record longer than `maxRecordBytes`; `shown` is its start.
    mutating func recordTooLong(shown: [UInt8], limit: Int, line: Int, offset: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        batch.errors.append(RecordError(
            file: file, stage: "input", kind: .limit,
            message: "record is longer than max_record_bytes (\(limit) bytes)",
            line: line > 0 ? line : nil, offset: offset, record: .raw(shown, truncated: true)))
        if batch.records.count + batch.errors.count >= batchSize {
            try flush(emit: emit)
        }
    }

    /// Emits the current batch if it holds any record or error, and starts the next one.
    mutating func flush(emit: (Batch) throws -> Void) throws(InputFault) {
        guard !batch.records.isEmpty || !batch.errors.isEmpty else { return }
        let bytesHint = batch.bytes.count
        let next = Batch(file: batch.file, index: batch.index + 1)
        let full = batch
        batch = next
        batch.bytes.reserveCapacity(bytesHint)
        batch.records.reserveCapacity(min(batchSize, 4096))
        emittedBatches += 1
        emittedRecords += full.records.count
        do {
            try emit(full)
        } catch {
            throw .cancelled
        }
    }
}
