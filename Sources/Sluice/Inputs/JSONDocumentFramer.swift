import SluiceCore

/// Frames a file holding one JSON value (say, a pretty-printed object) as one record.
///
/// Leading and trailing whitespace is dropped; the record's line and offset are those of
/// its first byte. The value is buffered up to `maxRecordBytes`; a longer one becomes a
/// `limit` error and the rest of the file is skipped. Blanks after the value never count
/// against the limit, however many there are: once they push the buffer past it they are
/// dropped (keeping the first 1024 bytes an error would show), and only a later non-blank
/// byte makes the value too long. Nothing is validated here: trailing garbage is left for
/// the JSON parser to report.
struct JSONDocumentFramer: RecordFramer {
    private(set) var assembler: BatchAssembler
    private let maxRecordBytes: Int
    private var offset: Int
    private var line = 1
    private var hasStarted = false
    private var isSkipping = false
    private var recordLine = 0
    private var recordOffset = 0
    /// True when blanks that pushed the buffer past the limit were dropped: one more
    /// non-blank byte makes the value too long.
    private var hasDroppedBlanks = false

    /// - Parameter startOffset: decoded offset of the first byte passed in (3 after a BOM).
    init(assembler: BatchAssembler, maxRecordBytes: Int, startOffset: Int = 0) {
        self.assembler = assembler
        self.maxRecordBytes = maxRecordBytes
        self.offset = startOffset
    }

    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Batch) throws -> Void) throws(InputFault) {
        defer { offset += chunk.count }
        if isSkipping { return }
        var start = 0
        if !hasStarted {
            while start < chunk.count && isJSONSpace(chunk[start]) {
                if chunk[start] == 0x0A { line += 1 }
                start += 1
            }
            if start == chunk.count { return }
            hasStarted = true
            recordLine = line
            recordOffset = offset + start
        }
        if hasDroppedBlanks {
            if chunk[start...].contains(where: { !isJSONSpace($0) }) { try reject(emit: emit) }
            return
        }
        assembler.batch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start...]))
        if assembler.batch.bytes.count > max(maxRecordBytes, BatchAssembler.shownPrefix) {
            // Runs once: afterwards the value is rejected or its trailing blanks dropped, so
            // this scan (once per chunk, it made many blanks quadratic) stays O(n) in all.
            var end = assembler.batch.bytes.count
            while end > 0 && isJSONSpace(assembler.batch.bytes[end - 1]) { end -= 1 }
            if end > maxRecordBytes {
                try reject(emit: emit)
            } else {
                // Only blanks pass the limit: the value still fits if the file ends here.
                assembler.batch.bytes.removeSubrange(max(end, BatchAssembler.shownPrefix)...)
                hasDroppedBlanks = true
            }
        }
    }

    private mutating func reject(emit: (Batch) throws -> Void) throws(InputFault) {
        let shown = Array(assembler.batch.bytes.prefix(BatchAssembler.shownPrefix))
        assembler.batch.bytes.removeAll()
        isSkipping = true
        try assembler.recordTooLong(shown: shown, limit: maxRecordBytes, line: recordLine, offset: recordOffset, emit: emit)
    }

    mutating func flushFramed(emit: (Batch) throws -> Void) throws(InputFault) {
        try assembler.flush(emit: emit)
    }

    mutating func finish(emit: (Batch) throws -> Void) throws(InputFault) {
        if hasStarted && !isSkipping {
            while let last = assembler.batch.bytes.last, isJSONSpace(last) { assembler.batch.bytes.removeLast() }
            if assembler.batch.bytes.count > maxRecordBytes {
                try reject(emit: emit)
            } else {
                try assembler.commit(start: 0, line: recordLine, offset: recordOffset, emit: emit)
            }
        }
        try assembler.flush(emit: emit)
    }
}
