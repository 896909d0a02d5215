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
/// never a stack overflow — and allocates nothing besides the tape's own growth. While a
/// container is open its entry's `next` field temporarily holds its parent's tape index.
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
        precondition(start >= 0 && start <= end && end <= bytes.count, "JSON range out of bounds")
        let root = tape.count
        guard end < Int(UInt32.max), root + (end - start) < Int(UInt32.max) else {
            throw JSONSyntaxError(message: "JSON text or tape beyond 4 GiB", offset: 0)
        }
        guard let base = bytes.baseAddress, start < end else {
            throw JSONSyntaxError(message: "empty input, expected a JSON value", offset: 0)
        }
        // Every node starts at a distinct byte, so a value never needs more nodes than bytes;
        // growing geometrically keeps batch-wide indexing linear.
        let needed = root + (end - start)
        if tape.capacity < needed {
            tape.reserveCapacity(Swift.max(needed, tape.capacity * 2))
        }
        let parser = JSONParser(p: base, start: start, end: end, maxDepth: maxDepth)
        do {
            try parser.run(into: &tape)
        } catch {
            tape.removeSubrange(root...)
            throw error
        }
        return root
    }
}

/// The state machine behind ``JSONIndexer``; one instance per indexed value.
struct JSONParser {
    let p: UnsafePointer<UInt8>
    let start: Int
    let end: Int
    let maxDepth: Int

    /// Marks "no parent" in the `next` field of an open root container.
    static let noParent = UInt32.max

    package func run(into tape: inout [TapeEntry]) throws(JSONSyntaxError) {
        var i = skipWhitespace(start)
        var open = -1  // tape index of the innermost open container, -1 at top level
        var inObject = false
        var count: UInt32 = 0  // members / elements so far in `open`
        var depth = 0

        if i + 2 < end, p[i] == 0xEF, p[i + 1] == 0xBB, p[i + 2] == 0xBF {
            throw failure("byte order mark before the JSON value (not allowed)", i)
        }

        valueLoop: while true {
            // A value starts at i.
            guard i < end else {
                throw failure(open < 0 ? "empty input, expected a JSON value" : "unexpected end of input, expected a value", i)
            }
            let c = p[i]
            switch c {
            case UInt8(ascii: "\""):
                i = try scanString(i, into: &tape)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth >= maxDepth {
                    throw failure("nesting deeper than \(maxDepth) levels", i)
                }
                depth += 1
                if open >= 0 { tape[open].count = count }
                let parent = open >= 0 ? UInt32(truncatingIfNeeded: open) : JSONParser.noParent
                open = tape.count
                inObject = c == UInt8(ascii: "{")
                count = 0
                tape.append(TapeEntry(kind: inObject ? .object : .array, start: UInt32(truncatingIfNeeded: i), end: 0, next: parent))
                i = skipWhitespace(i + 1)
                let closer = inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i < end && p[i] == closer {
                    close(at: i, open: &open, inObject: &inObject, count: &count, tape: &tape)
                    depth -= 1
                    i += 1
                } else if inObject {
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
                if open < 0 { break valueLoop }
                count += 1
                i = skipWhitespace(i)
                guard i < end else {
                    throw failure(inObject ? "unexpected end of input in an object, expected ',' or '}'" : "unexpected end of input in an array, expected ',' or ']'", i)
                }
                let d = p[i]
                if d == UInt8(ascii: ",") {
                    i = skipWhitespace(i + 1)
                    if inObject {
                        if let value = plainKey(i, into: &tape) { i = value } else { i = try scanKey(i, into: &tape) }
                    }
                    continue valueLoop
                }
                if d == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    close(at: i, open: &open, inObject: &inObject, count: &count, tape: &tape)
                    depth -= 1
                    i += 1
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
    func close(at i: Int, open: inout Int, inObject: inout Bool, count: inout UInt32, tape: inout [TapeEntry]) {
        let parent = tape[open].next
        let next = UInt32(truncatingIfNeeded: tape.count)
        tape[open].count = count
        tape[open].end = UInt32(truncatingIfNeeded: i + 1)
        tape[open].next = next
        if parent == JSONParser.noParent {
            open = -1
        } else {
            open = Int(parent)
            count = tape[open].count
            inObject = tape[open].kind == .object
        }
    }

    @inline(__always)
    func skipWhitespace(_ from: Int) -> Int {
        var i = from
        while i < end {
            let c = p[i]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { break }
            i += 1
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
    /// `sluice-bench json --megabytes 4` (callgrind). The same inline path for string
    /// values did not pay (773M): values are longer, so the call matters less.
    @inline(__always)
    func plainKey(_ at: Int, into tape: inout [TapeEntry]) -> Int? {
        guard let q = plainStringEnd(at), q + 1 < end, p[q + 1] == UInt8(ascii: ":") else { return nil }
        tape.append(TapeEntry(kind: .string, start: UInt32(truncatingIfNeeded: at), end: UInt32(truncatingIfNeeded: q + 1), next: UInt32(truncatingIfNeeded: tape.count + 1)))
        return skipWhitespace(q + 2)
    }

    /// The index of the closing quote of the string whose opening quote is at `at`, when
    /// everything between is ASCII with no `\\` and no control character (so there is
    /// nothing else to validate) and the words read stay before `end`; otherwise nil, and
    /// the caller takes the general path. Eight bytes per step (SWAR), as in `scanString`.
    @inline(__always)
    func plainStringEnd(_ at: Int) -> Int? {
        guard at < end, p[at] == UInt8(ascii: "\"") else { return nil }
        let ones: UInt64 = 0x0101_0101_0101_0101
        var j = at + 1
        while j + 8 <= end {
            let w = UInt64(littleEndian: UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self))
            let quote = w ^ (ones &* 0x22)
            let slash = w ^ (ones &* 0x5C)
            let hits = (((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w) | w) & (ones &* 0x80)
            if hits == 0 {
                j += 8
                continue
            }
            // The lowest flagged byte is a real hit (false positives only sit above one).
            let q = j + hits.trailingZeroBitCount >> 3
            return p[q] == UInt8(ascii: "\"") ? q : nil
        }
        return nil
    }

    /// Scans an object key and the `:` after it; returns the index where the value starts.
    @inline(__always)
    func scanKey(_ at: Int, into tape: inout [TapeEntry]) throws(JSONSyntaxError) -> Int {
        guard at < end else {
            throw failure("unexpected end of input in an object, expected a string key", at)
        }
        guard p[at] == UInt8(ascii: "\"") else {
            let c = p[at]
            throw failure(c == UInt8(ascii: "}") ? "trailing comma before '}'" : "expected a string key, found \(describe(c))", at)
        }
        var i = try scanString(at, into: &tape)
        i = skipWhitespace(i)
        guard i < end, p[i] == UInt8(ascii: ":") else {
            throw failure(i < end ? "expected ':' after an object key, found \(describe(p[i]))" : "unexpected end of input, expected ':' after an object key", i)
        }
        return skipWhitespace(i + 1)
    }

    /// Matches the literal `name` at `i`, whose last four bytes are `word` (little-endian).
    @inline(__always)
    func scanLiteral(_ i: Int, _ name: StaticString, _ word: UInt32, kind: JSONKind, into tape: inout [TapeEntry]) throws(JSONSyntaxError) -> Int {
        let length = name.utf8CodeUnitCount
        guard i + length <= end,
              UInt32(littleEndian: UnsafeRawPointer(p + i + length - 4).loadUnaligned(as: UInt32.self)) == word
        else {
            throw failure("invalid literal, expected '\(name)'", i)
        }
        tape.append(TapeEntry(kind: kind, start: UInt32(truncatingIfNeeded: i), end: UInt32(truncatingIfNeeded: i + length), next: UInt32(truncatingIfNeeded: tape.count + 1)))
        return i + length
    }

    /// Validates a number's grammar at `s`; returns the index after it.
    @inline(__always)
    func scanNumber(_ s: Int, into tape: inout [TapeEntry]) throws(JSONSyntaxError) -> Int {
        var i = s
        if p[i] == UInt8(ascii: "-") {
            i += 1
        }
        guard i < end, isDigit(p[i]) else {
            throw failure("expected a digit after '-'", i)
        }
        if p[i] == UInt8(ascii: "0") {
            i += 1
            if i < end && isDigit(p[i]) {
                throw failure("leading zero in a number", i - 1)
            }
        } else {
            i += 1
            while i < end && isDigit(p[i]) { i += 1 }
        }
        var flags = TapeEntry.isInteger
        if i < end && p[i] == UInt8(ascii: ".") {
            flags = 0
            i += 1
            guard i < end, isDigit(p[i]) else {
                throw failure("expected a digit after the decimal point", i)
            }
            i += 1
            while i < end && isDigit(p[i]) { i += 1 }
        }
        if i < end && (p[i] | 0x20) == UInt8(ascii: "e") {
            flags = 0
            i += 1
            if i < end && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < end, isDigit(p[i]) else {
                throw failure("expected a digit in the exponent", i)
            }
            i += 1
            while i < end && isDigit(p[i]) { i += 1 }
        }
        tape.append(TapeEntry(kind: .number, flags: flags, start: UInt32(truncatingIfNeeded: s), end: UInt32(truncatingIfNeeded: i), next: UInt32(truncatingIfNeeded: tape.count + 1)))
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
