import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// Fills batches with framed records and hands each full one to `emit`.
///
/// Framers append a record's bytes to ``batch``'s buffer themselves (so a record that
/// spans read chunks is copied once) and then call ``commit(start:line:offset:emit:)``.
/// A batch is emitted when its records plus errors reach `batchSize` or its buffer passes
/// `maxBatchBytes`; commits happen only at record boundaries, so an emitted batch never
/// holds part of a record.
///
/// Byte fill (``startByteFill()``, NDJSON's): the framer copies record bytes with
/// ``append(_:count:)``, one `memcpy` into storage reserved ahead, instead of
/// `Array.append(contentsOf:)` per record (measured: ~160 instructions a call besides the
/// copy itself). While filling, `batch.bytes` is that storage: its `count` is its
/// reserved size, only the first ``filled`` bytes are the batch's, and the rest is not
/// yet written (`UInt8` is trivial: nothing reads or destroys those bytes; the buffer is
/// cut to ``filled`` before the batch is emitted). The emitted batch is exactly what
/// appending would have built: records back to back from byte 0.
struct BatchAssembler {
    /// The batch being filled; framers append record bytes to `batch.bytes` (in byte
    /// fill, through ``append(_:count:)``: see the type's discussion).
    var batch: Batch
    /// In byte fill, the bytes of `batch.bytes` that are the batch's (else unused).
    private(set) var filled = 0
    private(set) var isByteFill = false
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
    @inline(__always)
    package mutating func commit(start: Int, line: Int, offset: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        let end = isByteFill ? filled : batch.bytes.count
        batch.records.append(RecordSlot(start: start, end: end, line: line, offset: offset))
        if batch.records.count + batch.errors.count >= batchSize || end >= maxBatchBytes {
            try flush(emit: emit)
        }
    }

    // MARK: Byte fill

    /// Switches to byte fill (before any byte is appended).
    mutating func startByteFill() {
        guard !isByteFill else { return }
        precondition(batch.bytes.isEmpty && batch.records.isEmpty, "byte fill starts on an empty batch")
        isByteFill = true
        filled = 0
        batch.bytes = Self.storage(bytes: 0, from: nil, reserving: Self.initialFill)
    }

    /// The first batch's reserve in byte fill (a batch grows as appending would).
    static let initialFill = 64 << 10

    /// `bytes` bytes copied from `source`, in storage of `count == max(bytes, reserving)`.
    private static func storage(bytes: Int, from source: UnsafePointer<UInt8>?, reserving: Int) -> [UInt8] {
        let size = Swift.max(bytes, reserving)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            if bytes > 0, let source { memcpy(buffer.baseAddress!, source, bytes) }
            count = size   // past `bytes`, written before it is read (see the type's discussion)
        }
    }

    /// Appends `count` bytes from `source` to the batch (byte fill).
    @inline(__always)
    mutating func append(_ source: UnsafePointer<UInt8>, count: Int) {
        if filled + count > batch.bytes.count { grow(toHold: filled + count) }
        let at = filled
        batch.bytes.withUnsafeMutableBufferPointer { _ = memcpy($0.baseAddress! + at, source, count) }
        filled += count
    }

    /// The batch's byte at `index` (byte fill; `index < filled`).
    @inline(__always)
    func byte(at index: Int) -> UInt8 { batch.bytes[index] }

    /// Drops the batch's bytes from `count` on (byte fill).
    @inline(__always)
    mutating func cut(to count: Int) { filled = Swift.min(filled, count) }

    /// The batch's bytes `range` (byte fill), copied.
    func bytes(_ range: Range<Int>) -> [UInt8] { Array(batch.bytes[range]) }

    /// Moves the filled bytes to storage twice the size (or large enough for `needed`).
    private mutating func grow(toHold needed: Int) {
        let size = Swift.max(needed, 2 * batch.bytes.count, 4096)
        let grown = batch.bytes.withUnsafeBufferPointer { Self.storage(bytes: filled, from: $0.baseAddress, reserving: size) }
        batch.bytes = grown
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
        let bytesHint = isByteFill ? filled : batch.bytes.count
        let next = Batch(file: batch.file, index: batch.index + 1)
        var full = batch
        batch = next
        // A quarter more than the last batch: the next one is rarely exactly as long, and
        // growing past the reserve copies the whole buffer (measured: once per batch).
        if isByteFill {
            full.bytes.removeSubrange(filled...)
            filled = 0
            batch.bytes = Self.storage(bytes: 0, from: nil, reserving: Swift.max(4096, bytesHint + bytesHint / 4))
        } else {
            batch.bytes.reserveCapacity(bytesHint + bytesHint / 4)
        }
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
