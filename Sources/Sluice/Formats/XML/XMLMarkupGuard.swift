#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A lexical pre-scan of XML bytes that rejects hostile markup before libxml2 sees it.
///
/// libxml2 2.9.14 checks a start tag's attributes for duplicates pairwise, so a tag with
/// 50,000 attributes costs it minutes; and the push parser re-scans an unfinished tag on
/// every chunk, so one enormous tag costs it quadratic time. The guard runs over every
/// chunk first, in linear time, and stops the file when a start tag has more than
/// `maxAttributes` attributes or a markup token (a tag, a comment, a processing
/// instruction, the DOCTYPE, an entity reference) is longer than `maxTokenBytes`. CDATA sections and text are
/// not limited here: libxml2 streams them, and the record size limit applies.
///
/// It follows only the ASCII structure (`<`, `>`, quotes, `<!--`, `<![CDATA[`, `<?`), and
/// skips NUL bytes so that UTF-16 documents scan like ASCII ones. In encodings where `<`
/// is not the byte 0x3C (EBCDIC) it sees no markup and lets everything through; the
/// depth limit still applies there, in the parser callbacks.
package struct XMLMarkupGuard {
    private enum State: UInt8 {
        case text, open, bang, startTag, endTag, instruction, comment, cdata, doctype, doctypeComment, reference
    }

    private let maxAttributes: Int
    private let maxTokenBytes: Int
    private var state = State.text
    private var tokenBytes = 0
    private var attributes = 0
    private var quote: UInt8 = 0
    private var bracketDepth = 0
    /// The last four non-NUL bytes, newest in the low byte (kept where a state reads them:
    /// from `<` on, in comments, instructions, CDATA and the DOCTYPE).
    private var recent: UInt32 = 0

    package init(maxAttributes: Int, maxTokenBytes: Int) {
        self.maxAttributes = maxAttributes
        self.maxTokenBytes = maxTokenBytes
    }

    /// Scans `chunk`; returns the violation that must fail the file, or nil.
    package mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = chunk.baseAddress else { return nil }
        let n = chunk.count
        var i = 0
        while i < n {
            if state == .text || state == .startTag || state == .endTag {
                if let violation = scanTagsAndText(base, count: n, from: &i) { return violation }
                continue
            }
            if state == .cdata {
                let j = XMLMarkupGuard.find(0x3E, 0x3E, in: base, from: i, to: n)
                // A '>' ends the section when the two bytes before it (skipping NULs) are "]]".
                var k = j - 1
                var seen: UInt32 = 0
                var count = 0
                while k >= i && count < 2 {
                    if base[k] != 0 { seen |= UInt32(base[k]) << (8 * UInt32(count)); count += 1 }
                    k -= 1
                }
                // Fill from the bytes remembered from before.
                if count < 2 { seen = count == 1 ? (seen | (recent & 0xFF) << 8) : (recent & 0xFFFF) }
                if j == n {
                    recent = seen
                    return nil
                }
                recent = 0x3E
                i = j + 1
                if seen == 0x5D5D { state = .text }
                continue
            }
            let byte = base[i]
            i += 1
            if byte == 0 { continue }
            recent = recent << 8 | UInt32(byte)
            tokenBytes += 1
            if tokenBytes > maxTokenBytes { return tokenTooLong }
            switch state {
            case .text, .cdata, .startTag, .endTag:
                break  // handled above
            case .open:
                switch byte {
                case UInt8(ascii: "/"): state = .endTag
                case UInt8(ascii: "?"): state = .instruction
                case UInt8(ascii: "!"): state = .bang
                default:
                    state = .startTag
                    attributes = 0
                    quote = 0
                }
            case .bang:
                switch byte {
                case UInt8(ascii: "-"): state = .comment
                case UInt8(ascii: "["): state = .cdata
                default:
                    state = .doctype
                    quote = 0
                    bracketDepth = 0
                }
            case .instruction:
                if recent & 0xFFFF == 0x3F3E { state = .text }  // "?>"
            case .comment:
                if recent & 0xFF_FFFF == 0x2D2D3E { state = .text }  // "-->"
            case .doctype:
                if quote != 0 {
                    if byte == quote { quote = 0 }
                } else if recent == 0x3C21_2D2D {  // "<!--" inside the internal subset
                    state = .doctypeComment
                } else {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
                    case UInt8(ascii: "["): bracketDepth += 1
                    case UInt8(ascii: "]"): bracketDepth -= 1
                    case UInt8(ascii: ">") where bracketDepth <= 0: state = .text
                    default: break
                    }
                }
            case .reference:
                if byte == UInt8(ascii: ";") { state = .text } else if byte == UInt8(ascii: "<") { state = .open; tokenBytes = 1 }
            case .doctypeComment:
                if recent & 0xFF_FFFF == 0x2D2D3E { state = .doctype }
            }
        }
        return nil
    }

    /// The common path: text, start tags (quoted values included) and end tags, one after
    /// another without going back through the general state switch. Text, quoted values
    /// and end tags are skipped eight bytes at a time; the rest of a start tag goes
    /// through a tight loop. Returns at the end of the chunk, on a violation, or on
    /// markup that the general path handles (`<!`, `<?`, `&`, NUL after `<`).
    private mutating func scanTagsAndText(_ base: UnsafePointer<UInt8>, count n: Int, from i: inout Int) -> String? {
        while i < n {
            if state == .text {
                // libxml2's push parser buffers from `&` until it sees `;`: bound that too.
                let j = XMLMarkupGuard.find(0x3C, 0x26, in: base, from: i, to: n)
                if j == n {
                    i = n
                    return nil
                }
                tokenBytes = 1
                recent = UInt32(base[j])
                i = j + 1
                if base[j] == UInt8(ascii: "&") {
                    state = .reference
                    return nil
                }
                guard i < n else {
                    state = .open
                    return nil
                }
                let next = base[i]
                if next == UInt8(ascii: "?") || next == UInt8(ascii: "!") || next == 0 {
                    state = .open
                    return nil
                }
                i += 1
                tokenBytes = 2
                recent = recent << 8 | UInt32(next)
                if next == UInt8(ascii: "/") {
                    state = .endTag
                } else {
                    state = .startTag
                    attributes = 0
                    quote = 0
                }
            }
            if state == .endTag {
                let j = XMLMarkupGuard.find(0x3E, 0x3E, in: base, from: i, to: n)
                tokenBytes += j - i
                if tokenBytes > maxTokenBytes { return tokenTooLong }
                if j == n {
                    i = n
                    return nil
                }
                i = j + 1
                recent = recent << 8 | 0x3E
                state = .text
                continue
            }
            // In a start tag.
            if quote != 0 {
                let j = XMLMarkupGuard.find(quote, quote, in: base, from: i, to: n)
                tokenBytes += j - i
                if tokenBytes > maxTokenBytes { return tokenTooLong }
                if j == n {
                    i = n
                    return nil
                }
                i = j + 1
                recent = recent << 8 | UInt32(quote)
                quote = 0
            }
            // Names, blanks and `=` up to a quote or the closing '>'.
            var tokens = tokenBytes
            var ended = false
            while i < n {
                let byte = base[i]
                i += 1
                // One test for the bytes that matter here: NUL, quotes, `=` and `>`.
                if byte >= 64 || XMLMarkupGuard.startTagStops & (1 << UInt64(byte)) == 0 {
                    tokens += 1
                    continue
                }
                if byte == 0 { continue }
                tokens += 1
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                    break
                } else if byte == UInt8(ascii: "=") {
                    if tokens > maxTokenBytes { return tokenTooLong }
                    attributes += 1
                    if attributes > maxAttributes {
                        return "a start tag has more than input.xml.max_attributes (\(maxAttributes)) attributes"
                    }
                } else if byte == UInt8(ascii: ">") {
                    ended = true
                    break
                }
            }
            tokenBytes = tokens
            if tokenBytes > maxTokenBytes { return tokenTooLong }
            if ended { state = .text }
        }
        return nil
    }

    /// Bit `b` set for each byte `b` below 64 that stops the start-tag loop.
    private static let startTagStops: UInt64 = 1 << 0 | 1 << 0x22 | 1 << 0x27 | 1 << 0x3D | 1 << 0x3E

    private var tokenTooLong: String { "a markup token is longer than input.xml.max_token_bytes (\(maxTokenBytes) bytes)" }

    /// The index of the first byte in `base[from..<to]` equal to `a` or `b`, or `to`.
    /// Eight bytes at a time: short runs (most text between tags) cost no call.
    @inline(__always)
    private static func find(_ a: UInt8, _ b: UInt8, in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let spreadA = ones &* UInt64(a), spreadB = ones &* UInt64(b)
        var i = start
        while i + 8 <= end {
            let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let xa = w ^ spreadA, xb = w ^ spreadB
            // A zero byte of xa or xb is a match; the lowest flagged byte is always a true one.
            let hits = (((xa &- ones) & ~xa) | ((xb &- ones) & ~xb)) & (ones &* 0x80)
            if hits != 0 { return i + hits.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            if base[i] == a || base[i] == b { return i }
            i += 1
        }
        return end
    }
}
