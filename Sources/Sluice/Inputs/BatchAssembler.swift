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
///
/// Decoding in place (``startInPlace()``, NDJSON after the sniffed head): the decoder
/// writes into the storage at ``filled`` (``decodeTarget(wanting:)``), and appending
/// bytes that are already there moves ``filled`` past them instead of copying, so the
/// line breaks and blanks skipped between two records stay between their slots. The
/// records, their order and the batch boundaries (`maxBatchBytes` counts record bytes)
/// are those of byte fill; only the buffer also holds the gaps.
struct BatchAssembler {
    /// The batch being filled; framers append record bytes to `batch.bytes` (in byte
    /// fill, through ``append(_:count:)``: see the type's discussion).
    var batch: Batch
    /// In byte fill, the bytes of `batch.bytes` that are the batch's (else unused).
    private(set) var filled = 0
    private(set) var isByteFill = false
    /// Decoding in place (see ``decodeTarget(wanting:)``): decoded bytes land in the
    /// batch's storage and records stay where they landed.
    private(set) var isInPlace = false
    /// In place: the end in the storage of the bytes decoded so far (framed or not).
    private var decodedEnd = 0
    /// In place: the bytes of the batch's records (the storage also holds the line
    /// breaks and blanks between them): what `maxBatchBytes` bounds, as when appending.
    private var recordBytes = 0
    /// In place: set by a flush that moved the unframed rest of the chunk being framed
    /// to the next batch's storage; where that chunk's byte 0 would now be.
    private(set) var movedChunk: UnsafePointer<UInt8>?
    /// In place: the position in the storage of byte 0 of the chunk being framed.
    private var chunkOrigin = 0
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
        var size = end
        if isInPlace {
            recordBytes += end - start
            size = recordBytes
        }
        if batch.records.count + batch.errors.count >= batchSize || size >= maxBatchBytes {
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

    /// Appends `count` bytes from `source` to the batch (byte fill); returns where in
    /// the batch's bytes they are.
    ///
    /// In place, bytes that are already in the storage past ``filled`` (decoded there)
    /// stay where they are: the bytes skipped before them (line breaks, blanks, a
    /// skipped line) become a gap between two records, and nothing is copied.
    @inline(__always) @discardableResult
    mutating func append(_ source: UnsafePointer<UInt8>, count: Int) -> Int {
        if isInPlace {
            let at: Int? = batch.bytes.withUnsafeBufferPointer { storage in
                let base = storage.baseAddress!
                guard source >= base + filled && source + count <= base + decodedEnd else { return nil }
                return source - base
            }
            if let at {
                filled = at + count
                return at
            }
        }
        if filled + count > batch.bytes.count { grow(toHold: filled + count) }
        let at = filled
        batch.bytes.withUnsafeMutableBufferPointer { _ = memmove($0.baseAddress! + at, source, count) }
        filled += count
        if isInPlace { decodedEnd = Swift.max(decodedEnd, filled) }
        return at
    }

    // MARK: Decoding in place

    /// Switches byte fill to decoding in place (before the first ``decodeTarget(wanting:)``).
    mutating func startInPlace() {
        precondition(isByteFill, "decoding in place is a kind of byte fill")
        guard !isInPlace else { return }
        isInPlace = true
        decodedEnd = filled
        recordBytes = batch.records.reduce(0) { $0 + $1.end - $1.start }
    }

    /// Where the next decoded bytes go: the storage right after ``filled`` (the bytes
    /// between ``filled`` and the end of the last chunk are framed and not kept), with
    /// room for at least `wanting` bytes (the storage grows, as appending would, when
    /// it has less). Call ``decoded(_:)`` with how many were written, then frame them
    /// from the returned pointer.
    mutating func decodeTarget(wanting: Int) -> UnsafeMutableBufferPointer<UInt8> {
        if batch.bytes.count - filled < wanting { grow(toHold: filled + wanting) }
        let at = filled
        return batch.bytes.withUnsafeMutableBufferPointer { storage in
            UnsafeMutableBufferPointer(rebasing: storage[at...])
        }
    }

    /// `count` bytes were decoded at the last ``decodeTarget(wanting:)``: returns them.
    mutating func decoded(_ count: Int) -> UnsafeBufferPointer<UInt8> {
        chunkOrigin = filled
        decodedEnd = filled + count
        movedChunk = nil
        let at = filled
        return batch.bytes.withUnsafeBufferPointer { UnsafeBufferPointer(rebasing: $0[at..<at + count]) }
    }

    /// About how many more decoded bytes fill the batch, for records of `meanRecord`
    /// bytes (line breaks included), and 16 records more: a batch of 1024 records of
    /// the bench's varies by about 8 of them, and one that falls short costs a decode
    /// call more (ISA-L copies its 32 KiB window out at the end of each call), while
    /// one that overshoots moves the few records' bytes it decoded past the batch.
    func bytesWanted(meanRecord: Int) -> Int {
        let records = Swift.max(1, batchSize - batch.records.count - batch.errors.count)
        let bytes = Swift.max(1, maxBatchBytes - recordBytes)
        return Swift.min(records * meanRecord, bytes) + 16 * meanRecord
    }

    /// Clears ``movedChunk`` once the framer has taken it.
    mutating func tookMovedChunk() { movedChunk = nil }

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
        if isInPlace {
            // The chunk's bytes after the last record (not framed yet, or a gap) go on in
            // the next batch's storage; the framer goes on from `movedChunk`.
            let rest = decodedEnd - filled
            let from = filled
            batch.bytes = full.bytes.withUnsafeBufferPointer {
                Self.storage(bytes: rest, from: $0.baseAddress! + from, reserving: Swift.max(4096, rest, bytesHint + bytesHint / 4))
            }
            full.bytes.removeSubrange(filled...)
            chunkOrigin -= from
            movedChunk = batch.bytes.withUnsafeBufferPointer { UnsafePointer($0.baseAddress!) + chunkOrigin }
            decodedEnd = rest
            filled = 0
            recordBytes = 0
        } else if isByteFill {
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
