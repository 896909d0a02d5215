#if canImport(Glibc)
import Glibc
import SluiceCore
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives a file's decoded bytes chunk by chunk and frames them into records.
protocol RecordFramer {
    var assembler: BatchAssembler { get }
    /// Frames the records in `chunk`; a record left open at its end continues in the next chunk.
    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Batch) throws -> Void) throws(InputFault)
    /// Ends the input: closes an open record, checks the structure, emits the last batch.
    mutating func finish(emit: (Batch) throws -> Void) throws(InputFault)
    /// Emits the records framed so far without closing an open record (after a fault).
    mutating func flushFramed(emit: (Batch) throws -> Void) throws(InputFault)
}

/// True for the bytes trimmed around NDJSON lines and skipped between JSON values.
@inline(__always)
func isJSONSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
}

/// Frames newline-delimited JSON: one record per line.
///
/// Lines end with LF; a CR before it is dropped, and so is other whitespace around the
/// record (a record's `offset` is that of its first non-blank byte). Blank and
/// whitespace-only lines are skipped but still counted, so `line` is the 1-based line
/// number in the decoded file. Lines are found with `memchr`; a line wholly inside one
/// chunk is copied into the batch once, in bulk, and a line spanning chunks is
/// appended piece by piece to the batch buffer (both with the assembler's byte fill: one
/// `memcpy` each, see ``BatchAssembler``).
///
/// A line longer than `maxRecordBytes` becomes a `limit` error (showing its first 1024
/// bytes) and the rest of it is skipped without being buffered, up to the next newline.
/// While a line is still open, at most `max(maxRecordBytes + 1, 1024)` bytes of it are
/// buffered (one byte of slack for a CR). Blanks at the end of a line do not count against
/// the limit whether or not the line spans chunks: when an open line passes the bound with
/// only blanks after its last non-blank byte, those blanks (beyond the first 1024 bytes,
/// which an error would show) are dropped, and the record is too long only if another
/// non-blank byte follows them.
struct NDJSONFramer: RecordFramer {
    private(set) var assembler: BatchAssembler
    private let maxRecordBytes: Int
    /// Decoded offset of the next chunk's first byte.
    private var offset: Int
    /// 1-based number of the current line.
    private var line = 1
    /// Where framing started (for the mean line length).
    private let firstOffset: Int
    private let firstLine: Int
    /// Start in the batch buffer of a record whose line is still open, or -1.
    private var openStart = -1
    private var openOffset = 0
    /// True while skipping the rest of an oversized line.
    private var isSkipping = false
    /// True when blanks that pushed the open line past the limit were dropped: one more
    /// non-blank byte on the line makes the record too long.
    private var hasDroppedBlanks = false

    /// - Parameters:
    ///   - startOffset: decoded offset of the first byte passed in (3 after a BOM).
    ///   - startLine: its line number (a grown file read from where it stopped).
    init(assembler: BatchAssembler, maxRecordBytes: Int, startOffset: Int = 0, startLine: Int = 1) {
        self.assembler = assembler
        self.assembler.startByteFill()
        self.maxRecordBytes = maxRecordBytes
        self.offset = startOffset
        self.line = startLine
        firstOffset = startOffset
        firstLine = startLine
    }

    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Batch) throws -> Void) throws(InputFault) {
        guard var base = chunk.baseAddress else { return }
        let count = chunk.count
        var i = 0
        while i < count {
            guard let found = memchr(base + i, 0x0A, count - i) else {
                try openLine(base, from: i, to: count, emit: emit)
                break
            }
            let newline = Int(bitPattern: found) - Int(bitPattern: base)
            try endLine(base, from: i, to: newline, emit: emit)
            // In place, a batch that filled took the rest of the chunk to the next one.
            if let moved = assembler.movedChunk {
                base = moved
                assembler.tookMovedChunk()
            }
            line += 1
            i = newline + 1
        }
        offset += count
    }

    // MARK: Decoding in place

    /// From now on the input is decoded straight into the batch's storage: call
    /// ``decodeTarget(chunkSize:)``, decode into it, then ``consumeDecoded(_:emit:)``.
    ///
    /// A record's bytes then stay where they were decoded (no copy into the batch: on
    /// the bench, the copy was 1.6 % of the run's time); the line breaks and blanks
    /// between records stay in the batch's bytes, outside every slot. When a batch fills
    /// in the middle of a chunk, the chunk's rest moves to the next batch's storage, so
    /// each decode asks for little more than the batch still needs (from the mean line).
    mutating func startInPlace() {
        assembler.startInPlace()
    }

    /// Where to decode the next bytes (at most `chunkSize`, at least 16 KiB).
    mutating func decodeTarget(chunkSize: Int) -> UnsafeMutableBufferPointer<UInt8> {
        let mean = Swift.max(64, (offset - firstOffset) / Swift.max(1, line - firstLine))
        let wanted = Swift.min(Swift.max(2, chunkSize), Swift.max(16 << 10, assembler.bytesWanted(meanRecord: mean)))
        let target = assembler.decodeTarget(wanting: wanted)
        return UnsafeMutableBufferPointer(rebasing: target[..<wanted])
    }

    /// Frames the `count` bytes decoded into the last ``decodeTarget(chunkSize:)``.
    mutating func consumeDecoded(_ count: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        let chunk = assembler.decoded(count)
        try consume(chunk, emit: emit)
    }

    mutating func flushFramed(emit: (Batch) throws -> Void) throws(InputFault) {
        try assembler.flush(emit: emit)
    }

    mutating func finish(emit: (Batch) throws -> Void) throws(InputFault) {
        if openStart >= 0 { try closeOpenRecord(emit: emit) }
        try assembler.flush(emit: emit)
    }

    /// Bytes `from..<to` are the whole rest of a line (its newline is at `to`).
    ///
    /// Inlined into `consume`: as a call, it retained and released the captures of the
    /// `emit` closure several times per line (measured: ~180 instructions per record).
    @inline(__always)
    private mutating func endLine(_ base: UnsafePointer<UInt8>, from: Int, to: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        if isSkipping {
            isSkipping = false
            return
        }
        if openStart >= 0 {
            if hasDroppedBlanks {
                if !isBlank(base, from: from, to: to) { try rejectOpenRecord(emit: emit); return }
            } else {
                assembler.append(base + from, count: to - from)
            }
            try closeOpenRecord(emit: emit)
            return
        }
        var start = from
        var end = to
        while start < end && isJSONSpace(base[start]) { start += 1 }
        while end > start && isJSONSpace(base[end - 1]) { end -= 1 }
        if start == end { return }
        let length = end - start
        if length > maxRecordBytes {
            // The same bytes whether or not the line spans chunks: its first 1024 from the
            // first non-blank one, without the blanks that end them.
            var shownEnd = min(start + BatchAssembler.shownPrefix, to)
            while shownEnd > start && isJSONSpace(base[shownEnd - 1]) { shownEnd -= 1 }
            let shown = Array(UnsafeBufferPointer(start: base + start, count: shownEnd - start))
            try assembler.recordTooLong(shown: shown, limit: maxRecordBytes, line: line, offset: offset + start, emit: emit)
            return
        }
        let recordStart = assembler.append(base + start, count: length)
        try assembler.commit(start: recordStart, line: line, offset: offset + start, emit: emit)
    }

    /// Bytes `from..<to` end the chunk without ending the line.
    private mutating func openLine(_ base: UnsafePointer<UInt8>, from: Int, to: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        if isSkipping { return }
        var start = from
        if openStart < 0 {
            while start < to && isJSONSpace(base[start]) { start += 1 }
            if start == to { return }
            openOffset = offset + start
            openStart = assembler.append(base + start, count: to - start)
        } else if hasDroppedBlanks {
            if !isBlank(base, from: start, to: to) {
                try rejectOpenRecord(emit: emit)
                isSkipping = true
            }
            return
        } else {
            // In place, the next chunk was decoded right after the open record's bytes.
            assembler.append(base + start, count: to - start)
        }
        // Keep enough of an oversized line to show its first bytes in the error.
        if assembler.filled - openStart > max(maxRecordBytes + 1, BatchAssembler.shownPrefix) {
            var contentEnd = assembler.filled
            while contentEnd > openStart && isJSONSpace(assembler.byte(at: contentEnd - 1)) { contentEnd -= 1 }
            if contentEnd - openStart > maxRecordBytes {
                try rejectOpenRecord(emit: emit)
                isSkipping = true
            } else {
                // Only blanks pass the limit: the record still fits if the line ends here.
                assembler.cut(to: max(contentEnd, openStart + BatchAssembler.shownPrefix))
                hasDroppedBlanks = true
            }
        }
    }

    private func isBlank(_ base: UnsafePointer<UInt8>, from: Int, to: Int) -> Bool {
        var i = from
        while i < to && isJSONSpace(base[i]) { i += 1 }
        return i == to
    }

    private mutating func closeOpenRecord(emit: (Batch) throws -> Void) throws(InputFault) {
        hasDroppedBlanks = false
        var end = assembler.filled
        while end > openStart && isJSONSpace(assembler.byte(at: end - 1)) { end -= 1 }
        assembler.cut(to: end)
        if end - openStart > maxRecordBytes {
            try rejectOpenRecord(emit: emit)
            return
        }
        let start = openStart
        openStart = -1
        try assembler.commit(start: start, line: line, offset: openOffset, emit: emit)
    }

    /// Drops the open record from the buffer and reports it as too long.
    private mutating func rejectOpenRecord(emit: (Batch) throws -> Void) throws(InputFault) {
        let start = openStart
        openStart = -1
        hasDroppedBlanks = false
        var end = min(assembler.filled, start + BatchAssembler.shownPrefix)
        while end > start && isJSONSpace(assembler.byte(at: end - 1)) { end -= 1 }
        let shown = assembler.bytes(start..<end)
        assembler.cut(to: start)
        try assembler.recordTooLong(shown: shown, limit: maxRecordBytes, line: line, offset: openOffset, emit: emit)
    }
}
