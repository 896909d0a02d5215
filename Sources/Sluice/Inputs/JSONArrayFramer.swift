import SluiceCore

/// Frames a top-level JSON array: one record per element, streamed without loading the file.
///
/// A small structural scanner walks the bytes: outside elements it expects `[`, `,`, `]`
/// and whitespace; inside an element it tracks strings (with backslash escapes) and
/// bracket depth, so brackets and quotes inside strings do not end an element. An element
/// is an object or array (ending at its matching bracket), a string (ending at its closing
/// quote) or a bare scalar (ending at whitespace, `,` or `]`). Its bytes are not checked
/// here: the JSON parser reports bad records later, at indexing.
///
/// Each record carries the line and decoded offset where its element starts. An element
/// longer than `maxRecordBytes` becomes a `limit` error and is skipped (scanned; no more
/// than `max(maxRecordBytes, 1024)` bytes of it are buffered). Broken structure between elements — a missing comma, a trailing comma,
/// data after the closing `]` — or an input that ends inside the array stops the file
/// with an ``InputFault/parse(message:offset:line:)``.
struct JSONArrayFramer: RecordFramer {
    private(set) var assembler: BatchAssembler
    private let maxRecordBytes: Int

    private enum Phase {
        case beforeArray
        case firstElementOrEnd
        case elementAfterComma
        case inElement
        case afterElement
        case afterArray
    }

    private enum ElementKind {
        case container
        case string
        case scalar
    }

    private var phase = Phase.beforeArray
    private var kind = ElementKind.container
    private var depth = 0
    private var isInString = false
    private var isEscaped = false
    private var elementStart = 0
    private var elementLine = 0
    private var elementOffset = 0
    private var isSkipping = false
    /// Decoded offset of the next chunk's first byte.
    private var offset: Int
    private var line = 1

    /// - Parameter startOffset: decoded offset of the first byte passed in (3 after a BOM).
    init(assembler: BatchAssembler, maxRecordBytes: Int, startOffset: Int = 0) {
        self.assembler = assembler
        self.maxRecordBytes = maxRecordBytes
        self.offset = startOffset
    }

    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Batch) throws -> Void) throws(InputFault) {
        let count = chunk.count
        var i = 0
        while i < count {
            if phase == .inElement {
                if let end = scanElement(chunk, from: i) {
                    try appendElementBytes(chunk, from: i, to: end, emit: emit)
                    try finishElement(emit: emit)
                    i = end
                } else {
                    try appendElementBytes(chunk, from: i, to: count, emit: emit)
                    i = count
                }
                continue
            }
            let byte = chunk[i]
            if byte == 0x0A {
                line += 1
                i += 1
                continue
            }
            if isJSONSpace(byte) {
                i += 1
                continue
            }
            switch phase {
            case .beforeArray:
                guard byte == UInt8(ascii: "[") else { throw fault("expected '[' to open the top-level array", at: i) }
                phase = .firstElementOrEnd
                i += 1
            case .firstElementOrEnd:
                if byte == UInt8(ascii: "]") {
                    phase = .afterArray
                    i += 1
                } else if byte == UInt8(ascii: ",") {
                    throw fault("expected an array element or ']' but found ','", at: i)
                } else {
                    startElement(byte, at: i)
                }
            case .elementAfterComma:
                guard byte != UInt8(ascii: "]"), byte != UInt8(ascii: ",") else {
                    throw fault("expected an array element after ',' but found '\(Character(Unicode.Scalar(byte)))'", at: i)
                }
                startElement(byte, at: i)
            case .afterElement:
                if byte == UInt8(ascii: ",") {
                    phase = .elementAfterComma
                } else if byte == UInt8(ascii: "]") {
                    phase = .afterArray
                } else {
                    throw fault("expected ',' or ']' after an array element", at: i)
                }
                i += 1
            case .afterArray:
                throw fault("unexpected data after the closing ']' of the top-level array", at: i)
            case .inElement:
                preconditionFailure("handled above")
            }
        }
        offset += count
    }

    mutating func flushFramed(emit: (Batch) throws -> Void) throws(InputFault) {
        try assembler.flush(emit: emit)
    }

    mutating func finish(emit: (Batch) throws -> Void) throws(InputFault) {
        if phase != .afterArray {
            let what = phase == .beforeArray ? "the input holds no JSON array" : "the JSON array is truncated: the input ends before its closing ']'"
            throw InputFault.parse(message: what, offset: offset, line: line)
        }
        try assembler.flush(emit: emit)
    }

    private func fault(_ message: String, at index: Int) -> InputFault {
        .parse(message: message + " at offset \(offset + index)", offset: offset + index, line: line)
    }

    private mutating func startElement(_ byte: UInt8, at index: Int) {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["): kind = .container
        case UInt8(ascii: "\""): kind = .string
        default: kind = .scalar
        }
        phase = .inElement
        depth = 0
        isInString = false
        isEscaped = false
        isSkipping = false
        elementStart = assembler.batch.bytes.count
        elementLine = line
        elementOffset = offset + index
    }

    /// Scans element bytes from `from`; returns the index just past the element's end, or
    /// nil when the element continues past the chunk.
    private mutating func scanElement(_ chunk: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        let count = chunk.count
        switch kind {
        case .scalar:
            while i < count {
                let byte = chunk[i]
                if isJSONSpace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") { return i }
                i += 1
            }
            return nil
        case .string, .container:
            while i < count {
                let byte = chunk[i]
                i += 1
                if isInString {
                    if isEscaped {
                        isEscaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        isEscaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        isInString = false
                        if kind == .string { return i }
                    } else if byte == 0x0A {
                        line += 1
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    isInString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth <= 0 { return i }
                case 0x0A:
                    line += 1
                default:
                    break
                }
            }
            return nil
        }
    }

    private mutating func appendElementBytes(_ chunk: UnsafeBufferPointer<UInt8>, from: Int, to: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        guard !isSkipping, to > from else { return }
        assembler.batch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[from..<to]))
        // Keep enough of an oversized element to show its first bytes in the error.
        if assembler.batch.bytes.count - elementStart > max(maxRecordBytes, BatchAssembler.shownPrefix) {
            try rejectElement(emit: emit)
        }
    }

    private mutating func rejectElement(emit: (Batch) throws -> Void) throws(InputFault) {
        do {
            let end = min(assembler.batch.bytes.count, elementStart + BatchAssembler.shownPrefix)
            let shown = Array(assembler.batch.bytes[elementStart..<end])
            assembler.batch.bytes.removeSubrange(elementStart...)
            isSkipping = true
            try assembler.recordTooLong(shown: shown, limit: maxRecordBytes, line: elementLine, offset: elementOffset, emit: emit)
        }
    }

    private mutating func finishElement(emit: (Batch) throws -> Void) throws(InputFault) {
        phase = .afterElement
        if isSkipping {
            isSkipping = false
            return
        }
        if assembler.batch.bytes.count - elementStart > maxRecordBytes {
            try rejectElement(emit: emit)
            isSkipping = false
            return
        }
        try assembler.commit(start: elementStart, line: elementLine, offset: elementOffset, emit: emit)
    }
}
