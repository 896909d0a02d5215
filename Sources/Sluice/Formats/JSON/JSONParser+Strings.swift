/// String scanning for ``JSONParser``: escapes, control characters and UTF-8 validation.
///
/// Plain ASCII runs are skipped by a string kernel (``JSONStringScan``: sixteen bytes per
/// step with SSE2 on x86_64, eight with SWAR elsewhere), and only the first byte it flags
/// drops to the byte-by-byte path.
extension JSONParser {
    /// Scans the string whose opening quote is at `s`; returns the index after the closing
    /// quote and the node's flags (the caller writes the node: passing the tape writer
    /// into this call would keep the parser's writer in memory).
    @inline(__always)
    func scanString<Scan: JSONStringScan>(_ s: Int, _ scan: Scan.Type) throws(JSONSyntaxError) -> (end: Int, flags: UInt8) {
        var i = s + 1
        var flags: UInt8 = 0
        while true {
            // Fast path: the kernel skips plain ASCII to the first byte to look at.
            i = Scan.stop(p, from: i, end: end, limit: limit, stepEnd: stepEnd)
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
            for k in 2..<6 where JSONParser.hexValue(p[i + k]) == nil {
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
