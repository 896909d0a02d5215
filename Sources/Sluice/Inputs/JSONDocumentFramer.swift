/// Frames a file holding one JSON value (say, a pretty-printed object) as one record.
///
/// Leading and trailing whitespace is dropped; the record's line and offset are those of
/// its first byte. The value is buffered up to `maxRecordBytes`; a longer one becomes a
/// `limit` error and the rest of the file is skipped. Nothing is validated here: trailing
/// garbage is left for the JSON parser to report.
struct JSONDocumentFramer: RecordFramer {
    private(set) var assembler: BatchAssembler
    private let maxRecordBytes: Int
    private var offset: Int
    private var line = 1
    private var hasStarted = false
    private var isSkipping = false
    private var recordLine = 0
    private var recordOffset = 0

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
        assembler.batch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start...]))
        if assembler.batch.bytes.count > max(maxRecordBytes, BatchAssembler.shownPrefix) {
            // Trailing whitespace does not count against the limit; a little of it is tolerated.
            var end = assembler.batch.bytes.count
            while end > 0 && isJSONSpace(assembler.batch.bytes[end - 1]) { end -= 1 }
            if end > maxRecordBytes || assembler.batch.bytes.count > maxRecordBytes + 65536 {
                try reject(emit: emit)
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
