/// Validates one JSON text and lays its nodes out on a tape (see ``TapeEntry``).
///
/// Strict RFC 8259: one value, optionally surrounded by JSON whitespace (space, tab,
/// LF, CR); nothing else before or after it. Strings must be valid UTF-8 with no raw
/// control characters; numbers must match the JSON grammar (they are not converted —
/// ``JSONView/number(_:)`` does that on demand). A byte order mark is rejected.
///
/// Escaped surrogates that do not pair up (`"\ud800"`, `"\udc00x"`) are *accepted*: the
/// grammar allows them and producers such as JavaScript emit them. The source bytes
/// pass through unchanged; decoding (``JSONView/string(_:)``, key comparison) turns each
/// unpaired surrogate into U+FFFD.
///
/// The parser is iterative — nesting deeper than `maxDepth` is a ``JSONSyntaxError``,
/// never a stack overflow. Nodes are written through a ``TapeWriter`` (raw storage). While a
/// container is open its entry's `next` field temporarily holds how far back its parent is.
///
/// ```swift
/// var tape: [TapeEntry] = []
/// let root = try buffer.withUnsafeBufferPointer { bytes throws(JSONSyntaxError) in
///     try JSONIndexer.index(bytes, start: 0, end: bytes.count, into: &tape)
/// }
/// ```
public enum JSONIndexer {
    /// The nesting limit used when a caller has no better idea.
    public static let defaultMaxDepth = 256

    /// The longest text the indexer takes: 1 GiB, the largest `max_record_bytes`, so that
    /// no container can have more members than a node counts (``TapeEntry/maxCount``).
    public static let maxTextBytes = 1 << 30

    /// Indexes the JSON value in `bytes[start..<end]`, appending its nodes to `tape`.
    ///
    /// - Parameters:
    ///   - bytes: The buffer holding the text; tape offsets index this buffer.
    ///   - start: First byte of the text.
    ///   - end: One past the last byte of the text.
    ///   - maxDepth: The most arrays / objects that may enclose one another.
    ///   - tape: The tape to append to. On error it is truncated back to its length on entry.
    /// - Returns: The tape index of the root node (the tape's length on entry).
    /// - Throws: ``JSONSyntaxError`` with a byte offset relative to `start`.
    /// - Complexity: O(`end - start`).
    public static func index(
        _ bytes: UnsafeBufferPointer<UInt8>,
        start: Int,
        end: Int,
        maxDepth: Int = defaultMaxDepth,
        into tape: inout [TapeEntry]
    ) throws(JSONSyntaxError) -> Int {
        try index(bytes, start: start, end: end, maxDepth: maxDepth, into: &tape, scan: DefaultStringScan.self)
    }

    /// ``index(_:start:end:maxDepth:into:)`` with the string kernel `scan` (tests run each).
    static func index<Scan: JSONStringScan>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        start: Int,
        end: Int,
        maxDepth: Int,
        into tape: inout [TapeEntry],
        scan: Scan.Type
    ) throws(JSONSyntaxError) -> Int {
        precondition(start >= 0 && start <= end && end <= bytes.count, "JSON range out of bounds")
        let root = tape.count
        guard end < Int(UInt32.max), root + (end - start) < Int(UInt32.max) else {
            throw JSONSyntaxError(message: "JSON text or tape beyond 4 GiB", offset: 0)
        }
        guard start < end else {
            throw JSONSyntaxError(message: "empty input, expected a JSON value", offset: 0)
        }
        // Every node starts at a distinct byte, so a value never needs more nodes than bytes.
        let storage = UnsafeMutablePointer<TapeEntry>.allocate(capacity: end - start)
        defer { storage.deallocate() }
        var writer = TapeWriter(base: storage, origin: root)
        _ = try index(bytes, start: start, end: end, maxDepth: maxDepth, into: &writer, scan: scan)
        tape.append(contentsOf: UnsafeBufferPointer(start: storage, count: writer.count))
        return root
    }

    /// Indexes the JSON value in `bytes[start..<end]` into `writer`, which must have room
    /// for `end - start` more nodes (every node starts at a distinct byte); the batch
    /// indexer uses it to write a whole batch's records into one tape without a copy.
    ///
    /// - Returns: The tape index of the root node.
    /// - Throws: ``JSONSyntaxError`` (offset relative to `start`); the writer is then back
    ///   at its count on entry.
    @inline(__always)
    package static func index(
        _ bytes: UnsafeBufferPointer<UInt8>,
        start: Int,
        end: Int,
        maxDepth: Int,
        into writer: inout TapeWriter
    ) throws(JSONSyntaxError) -> Int {
        try index(bytes, start: start, end: end, maxDepth: maxDepth, into: &writer, scan: DefaultStringScan.self)
    }

    /// The writer entry point with the string kernel `scan`. The kernel may read whole
    /// steps past `end`, up to `bytes.count`.
    @inline(__always)
    static func index<Scan: JSONStringScan>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        start: Int,
        end: Int,
        maxDepth: Int,
        into writer: inout TapeWriter,
        scan: Scan.Type
    ) throws(JSONSyntaxError) -> Int {
        let mark = writer.count
        let root = writer.index
        guard end < Int(UInt32.max), root + (end - start) < Int(UInt32.max) else {
            throw JSONSyntaxError(message: "JSON text or tape beyond 4 GiB", offset: 0)
        }
        // A node counts its container's members in 29 bits (``TapeEntry/maxCount``), and
        // a text of at most 1 GiB cannot overflow that: n elements take at least 2n + 1
        // bytes (`[`, a byte and a comma each but the last, `]`). So the parser never
        // checks a count (the largest `max_record_bytes` is 1 GiB).
        guard end &- start <= maxTextBytes else {
            throw JSONSyntaxError(message: "JSON text beyond 1 GiB", offset: 0)
        }
        guard let base = bytes.baseAddress, start < end else {
            throw JSONSyntaxError(message: "empty input, expected a JSON value", offset: 0)
        }
        let parser = JSONParser(p: base, start: start, end: end, limit: bytes.count, maxDepth: maxDepth)
        do {
            try parser.run(into: &writer, scan: scan)
        } catch {
            writer.count = mark
            throw error
        }
        return root
    }
}

/// Where ``JSONParser`` writes nodes: raw storage for tape indices `origin...`, with room
/// for every node the caller lets it write (one per input byte at most). Writing through a
/// pointer skips the uniqueness and capacity checks of `Array.append` and the bounds and
/// uniqueness checks of `Array` subscripts on every node (measured: see bench/RESULTS.md).
///
/// The parser keeps two moving values (where the next node goes, and its tape index), not
/// a base, an origin and a count: fewer live values in its loop (with the container state
/// kept in its node: 810.8 M -> 806.7 M instructions on the bench's 20 MB, bench/RESULTS.md).
package struct TapeWriter {
    /// Storage of the node at tape index `origin`.
    package let base: UnsafeMutablePointer<TapeEntry>
    /// The tape index of `base[0]`.
    package let origin: Int
    /// Where the next node goes: `base + count`.
    var cursor: UnsafeMutablePointer<TapeEntry>
    /// The tape index the next node gets, as a `next` field holds it.
    var nextIndex: UInt32

    package init(base: UnsafeMutablePointer<TapeEntry>, origin: Int) {
        self.base = base
        self.origin = origin
        cursor = base
        nextIndex = UInt32(truncatingIfNeeded: origin)
    }

    /// Nodes written so far.
    package var count: Int {
        @inline(__always) get { Int(nextIndex) &- origin }
        @inline(__always) set {
            cursor = base + newValue
            nextIndex = UInt32(truncatingIfNeeded: origin &+ newValue)
        }
    }

    /// The tape index the next node gets.
    @inline(__always)
    package var index: Int { Int(nextIndex) }

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

/// The state machine behind ``JSONIndexer``; one instance per indexed value.
///
/// While a container is open its node on the tape is the parser's state for it: `count`
/// counts its members or elements as they end, and `next` (low 32 bits) and `end` (high 32
/// bits) hold how many bytes back its parent is (0 for none) until the closing bracket sets
/// the real ones. The loop itself
/// keeps only the input position, the writer, the innermost open node and the depth.
struct JSONParser {
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

    func run<Scan: JSONStringScan>(into writer: inout TapeWriter, scan: Scan.Type) throws(JSONSyntaxError) {
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
                if let q = plainStringEnd(i, scan) {
                    tape.append(TapeEntry(kind: .string, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: q &+ 1), next: tape.nextAfterScalar))
                    i = q &+ 1
                } else {
                    let (after, flags) = try scanString(i, scan)
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
                if isObject, let value = plainKey(i &+ 1, into: &tape, scan) {
                    i = value
                    continue valueLoop
                }
                i = skipWhitespace(i &+ 1)
                let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i < end && p[i] == closer {
                    close(at: i, open: &open, tape: tape)
                    depth &-= 1
                    i &+= 1
                } else if isObject {
                    if let value = plainKey(i, into: &tape, scan) { i = value } else { i = try scanKey(i, into: &tape, scan) }
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
                i = try scanNumber(i, first: c, into: &tape)
            case 0x20, 0x0A, 0x0D, 0x09:
                i = skipWhitespace(i)
                continue valueLoop
            default:
                throw failure("unexpected \(describe(c)), expected a value", i)
            }

            // A value just ended before i: continue with what follows it. Compact text
            // first: the byte is tested for `,` and the closer before any whitespace skip,
            // the key after a comma is tried in place, and whitespace (anywhere) takes the
            // slow branch. With the same before the first key of an object and the value
            // after a key's `:` (the value switch skips whitespace itself), the parser went
            // from 180.6 M to 168.8 M instructions on the bench's 20 MB (callgrind,
            // bench/RESULTS.md wave 6); other orders and a kind kept in a register measured
            // worse (the loop has no spare register).
            afterValue: while true {
                guard let container = open else { break valueLoop }
                container.pointee.tag &+= 1  // the count, below the kind (see `maxTextBytes`)
                let inObject = container.pointee.kind == .object
                var d: UInt8 = i < end ? p[i] : 0
                while true {
                    if d == UInt8(ascii: ",") {
                        i &+= 1
                        if inObject {
                            if let value = plainKey(i, into: &tape, scan) { i = value } else { i = try scanKey(skipWhitespace(i), into: &tape, scan) }
                        }
                        continue valueLoop
                    }
                    if d == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        close(at: i, open: &open, tape: tape)
                        depth &-= 1
                        i &+= 1
                        continue afterValue
                    }
                    if isWhitespace(d) {
                        i = skipWhitespace(i)
                        d = i < end ? p[i] : 0
                        continue
                    }
                    guard i < end else {
                        throw failure(inObject ? "unexpected end of input in an object, expected ',' or '}'" : "unexpected end of input in an array, expected ',' or ']'", i)
                    }
                    throw failure(inObject ? "expected ',' or '}' after an object member, found \(describe(d))" : "expected ',' or ']' after an array element, found \(describe(d))", i)
                }
            }
        }

        i = skipWhitespace(i)
        if i < end {
            throw failure("unexpected \(describe(p[i])) after the JSON value", i)
        }
    }

    /// Finishes the container `open` whose closing bracket is at `i`, and makes its parent current.
    @inline(__always)
    func close(at i: Int, open: inout UnsafeMutablePointer<TapeEntry>?, tape: TapeWriter) {
        let node = open.unsafelyUnwrapped
        let parentDistance = Int(node.pointee.next) | Int(node.pointee.end) &<< 32
        node.pointee.end = UInt32(truncatingIfNeeded: i &+ 1)
        node.pointee.next = tape.nextIndex
        open = parentDistance == 0 ? nil : (UnsafeMutableRawPointer(node) - parentDistance).assumingMemoryBound(to: TapeEntry.self)
    }

    /// Space, tab, LF or CR.
    @inline(__always)
    func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
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
    func plainKey<Scan: JSONStringScan>(_ at: Int, into tape: inout TapeWriter, _ scan: Scan.Type) -> Int? {
        guard at < end, p[at] == UInt8(ascii: "\"") else { return nil }
        let q = Scan.stop(p, from: at &+ 1, end: end, limit: limit, stepEnd: stepEnd)
        // The closing quote and the `:` in one two-byte compare (both before `end`).
        guard q &+ 1 < end, UInt16(littleEndian: UnsafeRawPointer(p + q).loadUnaligned(as: UInt16.self)) == 0x3A22 else { return nil }
        tape.append(TapeEntry(kind: .string, start: UInt32(truncatingIfNeeded: at), end: UInt32(truncatingIfNeeded: q &+ 1), next: tape.nextAfterScalar))
        return q &+ 2  // whitespace before the value: the value loop skips it
    }

    /// The index of the closing quote of the string whose opening quote is at `at`, when
    /// everything between is ASCII with no `\\` and no control character (so there is
    /// nothing else to validate); otherwise nil, and the caller takes the general path.
    /// The string kernel `scan` finds the first byte that is not plain.
    @inline(__always)
    func plainStringEnd<Scan: JSONStringScan>(_ at: Int, _ scan: Scan.Type) -> Int? {
        guard at < end, p[at] == UInt8(ascii: "\"") else { return nil }
        let q = Scan.stop(p, from: at &+ 1, end: end, limit: limit, stepEnd: stepEnd)
        return q < end && p[q] == UInt8(ascii: "\"") ? q : nil
    }

    /// Scans an object key and the `:` after it; returns the index where the value starts.
    @inline(__always)
    func scanKey<Scan: JSONStringScan>(_ at: Int, into tape: inout TapeWriter, _ scan: Scan.Type) throws(JSONSyntaxError) -> Int {
        guard at < end else {
            throw failure("unexpected end of input in an object, expected a string key", at)
        }
        guard p[at] == UInt8(ascii: "\"") else {
            let c = p[at]
            throw failure(c == UInt8(ascii: "}") ? "trailing comma before '}'" : "expected a string key, found \(describe(c))", at)
        }
        let (after, flags) = try scanString(at, scan)
        tape.append(TapeEntry(kind: .string, flags: flags, start: UInt32(truncatingIfNeeded: at), end: UInt32(truncatingIfNeeded: after), next: tape.nextAfterScalar))
        let i = skipWhitespace(after)
        guard i < end, p[i] == UInt8(ascii: ":") else {
            throw failure(i < end ? "expected ':' after an object key, found \(describe(p[i]))" : "unexpected end of input, expected ':' after an object key", i)
        }
        return skipWhitespace(i &+ 1)
    }

    /// Matches the literal `name` at `i`, whose last four bytes are `word` (little-endian).
    @inline(__always)
    func scanLiteral(_ i: Int, _ name: StaticString, _ word: UInt32, kind: JSONKind, into tape: inout TapeWriter) throws(JSONSyntaxError) -> Int {
        let length = name.utf8CodeUnitCount
        guard i &+ length <= end,
              UInt32(littleEndian: UnsafeRawPointer(p + (i &+ length &- 4)).loadUnaligned(as: UInt32.self)) == word
        else {
            throw failure("invalid literal, expected '\(name)'", i)
        }
        tape.append(TapeEntry(kind: kind, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: i &+ length), next: tape.nextAfterScalar))
        return i &+ length
    }

    /// Validates a number's grammar at `s`, whose first byte `c` (a digit or `-`) the value
    /// switch has read already; returns the index after it. (Not reading it again, and not
    /// testing a digit for being one: 168.8 M -> 166.3 M instructions on the bench's 20 MB.)
    @inline(__always)
    func scanNumber(_ s: Int, first c: UInt8, into tape: inout TapeWriter) throws(JSONSyntaxError) -> Int {
        var i = s
        var d = c
        if c == UInt8(ascii: "-") {
            i &+= 1
            guard i < end, isDigit(p[i]) else {
                throw failure("expected a digit after '-'", i)
            }
            d = p[i]
        }
        if d == UInt8(ascii: "0") {
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


    package func failure(_ message: String, _ at: Int) -> JSONSyntaxError {
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
