@testable import SluiceCore

// The JSON parser as it was at main f7885e1 (before the parse-loop rewrite), frozen here
// as the oracle for ``JSONParserDifferentialTests``: the same tape nodes, the same errors
// (message and offset) for every input, whatever the production parser's fast paths do.
// A mechanical copy (types renamed, byte-by-byte string kernel, tape in an array); do not
// "improve" it — its only job is to be the old behaviour.

enum ReferenceJSON {
    /// Indexes `bytes[range]` the old way; tape offsets index `bytes`, `next` counts from 0.
    static func index(_ bytes: [UInt8], _ range: Range<Int>, maxDepth: Int = JSONIndexer.defaultMaxDepth) -> Result<[TapeEntry], JSONSyntaxError> {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !range.isEmpty else {
                return .failure(JSONSyntaxError(message: "empty input, expected a JSON value", offset: 0))
            }
            let storage = UnsafeMutablePointer<TapeEntry>.allocate(capacity: range.count)
            defer { storage.deallocate() }
            var writer = ReferenceTapeWriter(base: storage, origin: 0)
            let parser = ReferenceJSONParser(p: base, start: range.lowerBound, end: range.upperBound, limit: buffer.count, maxDepth: maxDepth)
            do throws(JSONSyntaxError) {
                try parser.run(into: &writer)
            } catch {
                return .failure(error)
            }
            return .success(Array(UnsafeBufferPointer(start: storage, count: writer.count)))
        }
    }
}

struct ReferenceTapeWriter {
    /// Storage of the node at tape index `origin`.
    let base: UnsafeMutablePointer<TapeEntry>
    /// The tape index of `base[0]`.
    let origin: Int
    /// Where the next node goes: `base + count`.
    var cursor: UnsafeMutablePointer<TapeEntry>
    /// The tape index the next node gets, as a `next` field holds it.
    var nextIndex: UInt32

    init(base: UnsafeMutablePointer<TapeEntry>, origin: Int) {
        self.base = base
        self.origin = origin
        cursor = base
        nextIndex = UInt32(truncatingIfNeeded: origin)
    }

    /// Nodes written so far.
    var count: Int {
        @inline(__always) get { Int(nextIndex) &- origin }
        @inline(__always) set {
            cursor = base + newValue
            nextIndex = UInt32(truncatingIfNeeded: origin &+ newValue)
        }
    }

    /// The tape index the next node gets.
    @inline(__always)
    var index: Int { Int(nextIndex) }

    /// `next` for a scalar written now: the index after it.
    @inline(__always)
    var nextAfterScalar: UInt32 { nextIndex &+ 1 }

    @inline(__always)
    mutating func append(_ entry: TapeEntry) {
        cursor.initialize(to: entry)
        cursor += 1
        nextIndex &+= 1
    }
}

struct ReferenceJSONParser {
    let p: UnsafePointer<UInt8>
    let start: Int
    let end: Int
    /// The end of the buffer: string kernels may read whole steps past `end` up to here.
    let limit: Int
    let maxDepth: Int
    /// `min(end, limit - 15)`, for the SSE2 string kernel (``JSONStringScan/stop(_:from:end:limit:stepEnd:)``).
    let stepEnd: Int

    init(p: UnsafePointer<UInt8>, start: Int, end: Int, limit: Int, maxDepth: Int) {
        self.p = p
        self.start = start
        self.end = end
        self.limit = limit
        self.maxDepth = maxDepth
        stepEnd = Swift.min(end, limit &- 15)
    }

    func run(into writer: inout ReferenceTapeWriter) throws(JSONSyntaxError) {
        // A local copy the optimiser keeps in registers (the caller's is behind a pointer,
        // and `scanString` is a call); it goes back on success, and on a throw the caller
        // resets its count.
        var tape = writer
        defer { writer = tape }
        var i = skipWhitespace(start)
        var open: UnsafeMutablePointer<TapeEntry>? = nil  // the innermost open container, nil at top level
        var depth = 0

        if i &+ 2 < end, p[i] == 0xEF, p[i &+ 1] == 0xBB, p[i &+ 2] == 0xBF {
            throw failure("byte order mark before the JSON value (not allowed)", i)
        }

        valueLoop: while true {
            // A value starts at i.
            guard i < end else {
                throw failure(open == nil ? "empty input, expected a JSON value" : "unexpected end of input, expected a value", i)
            }
            let c = p[i]
            switch c {
            case UInt8(ascii: "\""):
                if let q = plainStringEnd(i) {
                    tape.append(TapeEntry(kind: .string, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: q &+ 1), next: tape.nextAfterScalar))
                    i = q &+ 1
                } else {
                    let (after, flags) = try scanString(i)
                    tape.append(TapeEntry(kind: .string, flags: flags, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: after), next: tape.nextAfterScalar))
                    i = after
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth >= maxDepth {
                    throw failure("nesting deeper than \(maxDepth) levels", i)
                }
                depth &+= 1
                let node = tape.cursor
                let isObject = c == UInt8(ascii: "{")
                // In bytes, not nodes: no division by the node's size here, no multiply at the
                // close. 64 bits of it, split over `next` and `end` (set at the close), as a
                // text over 214 MB may put a parent more than 4 GiB of nodes back.
                let parentDistance = open.map { UnsafeRawPointer($0).distance(to: UnsafeRawPointer(node)) } ?? 0
                tape.append(TapeEntry(kind: isObject ? .object : .array, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: parentDistance &>> 32), next: UInt32(truncatingIfNeeded: parentDistance)))
                open = node
                i = skipWhitespace(i &+ 1)
                let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i < end && p[i] == closer {
                    close(at: i, open: &open, tape: tape)
                    depth &-= 1
                    i &+= 1
                } else if isObject {
                    if let value = plainKey(i, into: &tape) { i = value } else { i = try scanKey(i, into: &tape) }
                    continue valueLoop
                } else {
                    continue valueLoop
                }
            case UInt8(ascii: "t"):
                i = try scanLiteral(i, "true", 0x6575_7274, kind: .true, into: &tape)
            case UInt8(ascii: "f"):
                i = try scanLiteral(i, "false", 0x6573_6c61, kind: .false, into: &tape)
            case UInt8(ascii: "n"):
                i = try scanLiteral(i, "null", 0x6c6c_756e, kind: .null, into: &tape)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                i = try scanNumber(i, into: &tape)
            default:
                throw failure("unexpected \(describe(c)), expected a value", i)
            }

            // A value just ended before i: continue with what follows it.
            while true {
                guard let container = open else { break valueLoop }
                container.pointee.count &+= 1
                let inObject = container.pointee.kind == .object
                i = skipWhitespace(i)
                guard i < end else {
                    throw failure(inObject ? "unexpected end of input in an object, expected ',' or '}'" : "unexpected end of input in an array, expected ',' or ']'", i)
                }
                let d = p[i]
                if d == UInt8(ascii: ",") {
                    i = skipWhitespace(i &+ 1)
                    if inObject {
                        if let value = plainKey(i, into: &tape) { i = value } else { i = try scanKey(i, into: &tape) }
                    }
                    continue valueLoop
                }
                if d == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    close(at: i, open: &open, tape: tape)
                    depth &-= 1
                    i &+= 1
                    continue
                }
                throw failure(inObject ? "expected ',' or '}' after an object member, found \(describe(d))" : "expected ',' or ']' after an array element, found \(describe(d))", i)
            }
        }

        i = skipWhitespace(i)
        if i < end {
            throw failure("unexpected \(describe(p[i])) after the JSON value", i)
        }
    }

    /// Finishes the container `open` whose closing bracket is at `i`, and makes its parent current.
    @inline(__always)
    func close(at i: Int, open: inout UnsafeMutablePointer<TapeEntry>?, tape: ReferenceTapeWriter) {
        let node = open.unsafelyUnwrapped
        let parentDistance = Int(node.pointee.next) | Int(node.pointee.end) &<< 32
        node.pointee.end = UInt32(truncatingIfNeeded: i &+ 1)
        node.pointee.next = tape.nextIndex
        open = parentDistance == 0 ? nil : (UnsafeMutableRawPointer(node) - parentDistance).assumingMemoryBound(to: TapeEntry.self)
    }

    @inline(__always)
    func skipWhitespace(_ from: Int) -> Int {
        var i = from
        while i < end {
            let c = p[i]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { break }
            i &+= 1
        }
        return i
    }

    /// The common key, inline: a plain string (see ``plainStringEnd(_:)``) with a `:` right
    /// after it. Appends the key's node and returns where the value starts, or returns nil
    /// having appended nothing, for ``scanKey(_:into:)`` to do the general case (escapes,
    /// UTF-8, whitespace before `:`, and every error).
    ///
    /// Measured: the calls into `scanKey` and then `scanString` cost more than the scan of a
    /// 2–8 byte key itself; this path took the indexer from 886M to 767M instructions on
    /// `sluice-bench json --megabytes 4` (callgrind). String values take the same inline
    /// path (``plainStringEnd(_:)``) since the parser writes through a local
    /// ``TapeWriter``: Batch.indexRecords 296.6M -> 278.7M on the bench's 20 MB (it did
    /// not pay while every node went through `Array.append`: more register pressure).
    @inline(__always)
    func plainKey(_ at: Int, into tape: inout ReferenceTapeWriter) -> Int? {
        guard at < end, p[at] == UInt8(ascii: "\"") else { return nil }
        let q = ReferenceJSONParser.stop(p, from: at &+ 1, end: end)
        // The closing quote and the `:` in one two-byte compare (both before `end`).
        guard q &+ 1 < end, UInt16(littleEndian: UnsafeRawPointer(p + q).loadUnaligned(as: UInt16.self)) == 0x3A22 else { return nil }
        tape.append(TapeEntry(kind: .string, start: UInt32(truncatingIfNeeded: at), end: UInt32(truncatingIfNeeded: q &+ 1), next: tape.nextAfterScalar))
        return skipWhitespace(q &+ 2)
    }

    /// The index of the closing quote of the string whose opening quote is at `at`, when
    /// everything between is ASCII with no `\\` and no control character (so there is
    /// nothing else to validate); otherwise nil, and the caller takes the general path.
    /// The string kernel `scan` finds the first byte that is not plain.
    @inline(__always)
    func plainStringEnd(_ at: Int) -> Int? {
        guard at < end, p[at] == UInt8(ascii: "\"") else { return nil }
        let q = ReferenceJSONParser.stop(p, from: at &+ 1, end: end)
        return q < end && p[q] == UInt8(ascii: "\"") ? q : nil
    }

    /// Scans an object key and the `:` after it; returns the index where the value starts.
    @inline(__always)
    func scanKey(_ at: Int, into tape: inout ReferenceTapeWriter) throws(JSONSyntaxError) -> Int {
        guard at < end else {
            throw failure("unexpected end of input in an object, expected a string key", at)
        }
        guard p[at] == UInt8(ascii: "\"") else {
            let c = p[at]
            throw failure(c == UInt8(ascii: "}") ? "trailing comma before '}'" : "expected a string key, found \(describe(c))", at)
        }
        let (after, flags) = try scanString(at)
        tape.append(TapeEntry(kind: .string, flags: flags, start: UInt32(truncatingIfNeeded: at), end: UInt32(truncatingIfNeeded: after), next: tape.nextAfterScalar))
        let i = skipWhitespace(after)
        guard i < end, p[i] == UInt8(ascii: ":") else {
            throw failure(i < end ? "expected ':' after an object key, found \(describe(p[i]))" : "unexpected end of input, expected ':' after an object key", i)
        }
        return skipWhitespace(i &+ 1)
    }

    /// Matches the literal `name` at `i`, whose last four bytes are `word` (little-endian).
    @inline(__always)
    func scanLiteral(_ i: Int, _ name: StaticString, _ word: UInt32, kind: JSONKind, into tape: inout ReferenceTapeWriter) throws(JSONSyntaxError) -> Int {
        let length = name.utf8CodeUnitCount
        guard i &+ length <= end,
              UInt32(littleEndian: UnsafeRawPointer(p + (i &+ length &- 4)).loadUnaligned(as: UInt32.self)) == word
        else {
            throw failure("invalid literal, expected '\(name)'", i)
        }
        tape.append(TapeEntry(kind: kind, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: i &+ length), next: tape.nextAfterScalar))
        return i &+ length
    }

    /// Validates a number's grammar at `s`; returns the index after it.
    @inline(__always)
    func scanNumber(_ s: Int, into tape: inout ReferenceTapeWriter) throws(JSONSyntaxError) -> Int {
        var i = s
        if p[i] == UInt8(ascii: "-") {
            i &+= 1
        }
        guard i < end, isDigit(p[i]) else {
            throw failure("expected a digit after '-'", i)
        }
        if p[i] == UInt8(ascii: "0") {
            i &+= 1
            if i < end && isDigit(p[i]) {
                throw failure("leading zero in a number", i &- 1)
            }
        } else {
            i &+= 1
            while i < end && isDigit(p[i]) { i &+= 1 }
        }
        var flags = TapeEntry.isInteger
        if i < end && p[i] == UInt8(ascii: ".") {
            flags = 0
            i &+= 1
            guard i < end, isDigit(p[i]) else {
                throw failure("expected a digit after the decimal point", i)
            }
            i &+= 1
            while i < end && isDigit(p[i]) { i &+= 1 }
        }
        if i < end && (p[i] | 0x20) == UInt8(ascii: "e") {
            flags = 0
            i &+= 1
            if i < end && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i &+= 1 }
            guard i < end, isDigit(p[i]) else {
                throw failure("expected a digit in the exponent", i)
            }
            i &+= 1
            while i < end && isDigit(p[i]) { i &+= 1 }
        }
        tape.append(TapeEntry(kind: .number, flags: flags, start: UInt32(truncatingIfNeeded: s), end: UInt32(truncatingIfNeeded: i), next: tape.nextAfterScalar))
        return i
    }

    @inline(__always)
    func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }


    func failure(_ message: String, _ at: Int) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: at - start)
    }

    /// Names a byte for an error message: `'x'` for printable ASCII, `byte 0xNN` otherwise.
    func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F {
            return "'\(Character(Unicode.Scalar(c)))'"
        }
        let hex = String(c, radix: 16, uppercase: true)
        return "byte 0x\(c < 16 ? "0" : "")\(hex)"
    }
}

extension ReferenceJSONParser {
    /// The byte-by-byte string kernel: the first quote, backslash, control or non-ASCII byte.
    static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        var j = from
        while j < end {
            let c = p[j]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return j }
            j &+= 1
        }
        return end
    }

    /// Scans the string whose opening quote is at `s`; returns the index after the closing
    /// quote and the node's flags (the caller writes the node: passing the tape writer
    /// into this call would keep the parser's writer in memory).
    @inline(__always)
    func scanString(_ s: Int) throws(JSONSyntaxError) -> (end: Int, flags: UInt8) {
        var i = s + 1
        var flags: UInt8 = 0
        while true {
            // Fast path: the kernel skips plain ASCII to the first byte to look at.
            i = ReferenceJSONParser.stop(p, from: i, end: end)
            guard i < end else {
                throw failure("unterminated string", s)
            }
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                break
            } else if c == UInt8(ascii: "\\") {
                flags = TapeEntry.hasEscapes
                i = try scanEscape(i)
            } else if c < 0x20 {
                throw failure("control character U+00\(c < 16 ? "0" : "")\(String(c, radix: 16, uppercase: true)) in a string must be escaped", i)
            } else if c >= 0x80 {
                let n = utf8SequenceLength(at: i)
                if n == 0 {
                    throw failure("invalid UTF-8 in a string", i)
                }
                i += n
            } else {
                i += 1
            }
        }
        return (i, flags)
    }

    /// Validates the escape whose backslash is at `i`; returns the index after it.
    @inline(__always)
    private func scanEscape(_ i: Int) throws(JSONSyntaxError) -> Int {
        guard i + 1 < end else {
            throw failure("unterminated string", i)
        }
        switch p[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            guard i + 6 <= end else {
                throw failure("incomplete \\u escape, expected four hex digits", i)
            }
            for k in 2..<6 where ReferenceJSONParser.hexValue(p[i + k]) == nil {
                throw failure("invalid \\u escape, expected four hex digits", i)
            }
            return i + 6
        default:
            let c = p[i + 1]
            throw failure(c >= 0x20 && c < 0x7F ? "invalid escape '\\\(Character(Unicode.Scalar(c)))' in a string" : "invalid escape in a string", i)
        }
    }

    /// The length of the well-formed UTF-8 sequence (2–4 bytes) at `i`, or 0 when it is not
    /// one: overlong forms, encoded surrogates, code points past U+10FFFF and truncated
    /// sequences are all rejected.
    @inline(__always)
    func utf8SequenceLength(at i: Int) -> Int {
        let b0 = p[i]
        @inline(__always) func isContinuation(_ k: Int) -> Bool { p[k] & 0xC0 == 0x80 }
        if b0 < 0xC2 { return 0 }
        if b0 < 0xE0 {
            return i + 1 < end && isContinuation(i + 1) ? 2 : 0
        }
        if b0 < 0xF0 {
            guard i + 2 < end else { return 0 }
            let b1 = p[i + 1]
            let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            return b1 >= low && b1 <= high && isContinuation(i + 2) ? 3 : 0
        }
        if b0 < 0xF5 {
            guard i + 3 < end else { return 0 }
            let b1 = p[i + 1]
            let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            return b1 >= low && b1 <= high && isContinuation(i + 2) && isContinuation(i + 3) ? 4 : 0
        }
        return 0
    }

    /// The value of one hex digit, or nil.
    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c &- UInt8(ascii: "A") &+ 10)
        default: return nil
        }
    }
}
