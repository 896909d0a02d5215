/// Turns a finished batch into the bytes the sink appends: NDJSON records (one gzip
/// member per batch when compressing) and error-report lines.
///
/// Encoding runs on the last stage's worker threads, so compression — the costliest
/// step of writing — scales with that stage's `workers`, and the sink thread only
/// appends bytes in order. Concatenated gzip members form one valid gzip file (the
/// layout pigz writes).
struct OutputEncoder: Sendable {
    let compression: OutputConfig.Compression
    let level: Int
    let filePaths: [String]

    func encode(_ batch: Batch) -> EncodedBatch {
        var text: [UInt8] = []
        text.reserveCapacity(batch.bytes.count + batch.records.count)
        batch.bytes.withUnsafeBufferPointer { bytes in
            for slot in batch.records {
                appendCompact(UnsafeBufferPointer(rebasing: bytes[slot.start..<slot.end]), to: &text)
                text.append(UInt8(ascii: "\n"))
            }
        }
        var output: [UInt8]
        if compression == .gzip && !text.isEmpty {
            output = []
            output.reserveCapacity(text.count / 3)
            text.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &output) }
        } else {
            output = text
        }
        var errorLines: [UInt8] = []
        // Framing errors come first in a batch, parse and stage errors later: order
        // the lines by their place in the source so the report reads top to bottom.
        let ordered = batch.errors.enumerated().sorted {
            ($0.element.offset ?? 0, $0.offset) < ($1.element.offset ?? 0, $1.offset)
        }
        for (_, error) in ordered {
            errorLines.append(contentsOf: ErrorLineEncoder.encode(error))
        }
        return EncodedBatch(
            file: batch.file, index: batch.index, output: output, errorLines: errorLines,
            recordsIn: batch.recordsIn, recordsOut: batch.records.count,
            recordsFailed: batch.errors.count, recordsFiltered: batch.filtered,
            recordsDropped: batch.dropped, recordsCreated: batch.created)
    }
}

/// Appends valid JSON `text` on one line: without surrounding whitespace, and — when it
/// spans lines (a pretty-printed element of a JSON array) — without any whitespace
/// outside strings. Single-line text is copied byte for byte.
func appendCompact(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
    var start = 0
    var end = text.count
    while start < end, isJSONWhitespace(text[start]) { start += 1 }
    while end > start, isJSONWhitespace(text[end - 1]) { end -= 1 }
    let body = UnsafeBufferPointer(rebasing: text[start..<end])
    var spansLines = false
    for byte in body where byte == 0x0A || byte == 0x0D {
        spansLines = true
        break
    }
    guard spansLines else {
        out.append(contentsOf: body)
        return
    }
    var inString = false
    var escaped = false
    for byte in body {
        if inString {
            out.append(byte)
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
        } else if !isJSONWhitespace(byte) {
            out.append(byte)
            if byte == UInt8(ascii: "\"") { inString = true }
        }
    }
}

@inline(__always)
func isJSONWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
}

/// One error-report line (**contract**):
/// `{"file":…,"stage":…,"kind":…,"message":…,"line":N,"offset":N,"record":…}` and a
/// newline; `line`/`offset` only where known; `record` only where there is one;
/// `truncated: true` when `record` holds only the start of an over-long record;
/// `discarded: N` on a failed file's line (its records withheld from the output).
enum ErrorLineEncoder {
    static func encode(_ error: RecordError, discarded: Int? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("file"); writer.write(error.file)
        writer.key("stage"); writer.write(error.stage)
        writer.key("kind"); writer.write(error.kind.rawValue)
        writer.key("message"); writer.write(error.message)
        if let line = error.line { writer.key("line"); writer.write(line) }
        if let offset = error.offset { writer.key("offset"); writer.write(offset) }
        if let discarded { writer.key("discarded"); writer.write(discarded) }
        switch error.record {
        case .none:
            break
        case .json(let bytes):
            var compact: [UInt8] = []
            compact.reserveCapacity(bytes.count)
            bytes.withUnsafeBufferPointer { appendCompact($0, to: &compact) }
            writer.key("record"); writer.writeRaw(compact)
        case .raw(let bytes, let truncated):
            writer.key("record"); writer.writeLossyString(bytes)
            if truncated { writer.key("truncated"); writer.write(true) }
        }
        writer.endObject()
        writer.endRecord()
        return writer.bytes
    }
}
