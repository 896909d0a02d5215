#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif
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
/// It also finds where the document may be split for parsing in parallel
/// (``XMLSegmentedFramer``): it follows element depth, and notes the decoded offset of the
/// root's start tag end and of one start tag directly below the root every
/// `cutSpacing` bytes (``cuts``). A NUL byte stops cut-finding for the document.
///
/// With `cutsOnly` (a split read, whose segment parsers check every byte themselves and
/// run this guard before libxml2 sees a segment), the guard gives verdicts only up to the
/// end of the root's start tag; past it, it only follows depth to place the cuts, jumping
/// from one `<` to the next sixteen bytes at a time (SSE2; eight with SWAR elsewhere), by
/// the rules ``scanCuts(_:count:from:)`` lists, the same wherever chunks end: a `<` in a
/// well-formed document always
/// opens markup (it cannot occur in text or attribute values), so only start tags (for a
/// quoted `>` and `/>`), comments, CDATA sections and processing instructions are walked.
/// On a malformed document its cuts may be wrong; a wrong cut makes a segment fail to
/// parse, and the split read then reads the file again with one parser.
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

    // Cut-finding (see ``cuts``).
    /// Decoded bytes scanned before the current chunk.
    private var offset = 0
    /// Elements open at the current position (start tags seen, minus end tags and `/>`).
    private var depth = 0
    /// Decoded offset of the `<` of the tag being scanned.
    private var tagStart = 0
    /// True while the start tag being scanned is the root's.
    private var inRootTag = false
    /// The last byte of the previous chunk (to see `/>` across a chunk boundary).
    private var lastByte: UInt8 = 0
    /// Decoded offset where the next cut may be; `Int.max` once cutting is off.
    private var nextCut: Int
    private let cutSpacing: Int
    /// Offsets of the `<` of start tags directly below the root, at least `cutSpacing`
    /// apart: each is a place where the document can be split into segments. The owner
    /// takes them (and empties the list) as it goes.
    package var cuts: [Int] = []
    /// Decoded offset just past the root's start tag, once seen (cuts come only after it).
    package private(set) var rootTagEnd: Int?

    // Past the root's start tag with `cutsOnly` (see ``scanCuts``).
    private let cutsOnly: Bool
    private enum CutState: UInt8 {
        case text, lessThan, bang, startTag, quoted, comment, cdata, instruction, done
    }
    private var cutState = CutState.text
    /// The last two bytes of the chunks scanned so far, newest in the low byte.
    private var tail: UInt16 = 0

    /// `cutSpacing` 0 finds no cuts. `cutsOnly`: no verdicts past the root's start tag,
    /// only cuts (see the type's discussion).
    package init(maxAttributes: Int, maxTokenBytes: Int, cutSpacing: Int = 0, cutsOnly: Bool = false) {
        self.maxAttributes = maxAttributes
        self.maxTokenBytes = maxTokenBytes
        self.cutSpacing = cutSpacing
        self.cutsOnly = cutsOnly && cutSpacing > 0
        nextCut = cutSpacing > 0 ? cutSpacing : Int.max
    }

    /// A start tag begins at decoded offset `at` (its `<`).
    @inline(__always)
    private mutating func beginStartTag(at position: Int) {
        if depth == 1 {
            if position >= nextCut {
                cuts.append(position)
                nextCut = position + cutSpacing
            }
        } else if depth == 0 {
            if rootTagEnd == nil { inRootTag = true } else { nextCut = Int.max }  // a second root: malformed
        }
        depth += 1
    }

    /// The start tag being scanned ends with the `>` at decoded offset `at`, after `previous`.
    @inline(__always)
    private mutating func endStartTag(at position: Int, previous: UInt8) {
        if previous == UInt8(ascii: "/") { depth -= 1 }
        if inRootTag {
            inRootTag = false
            rootTagEnd = position + 1
            if depth == 0 { nextCut = Int.max }  // `<root/>`: nothing below it
        }
    }

    private mutating func stopCutting() { nextCut = Int.max }

    /// Scans `chunk`; returns the violation that must fail the file, or nil.
    package mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return nil }
        let n = chunk.count
        defer {
            offset += n
            lastByte = base[n - 1]
            tail = n >= 2 ? UInt16(base[n - 2]) << 8 | UInt16(base[n - 1]) : tail << 8 | UInt16(base[n - 1])
        }
        var i = 0
        while i < n {
            if cutsOnly && rootTagEnd != nil {
                scanCuts(base, count: n, from: i)
                return nil
            }
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
            if byte == 0 {
                stopCutting()
                continue
            }
            recent = recent << 8 | UInt32(byte)
            tokenBytes += 1
            if tokenBytes > maxTokenBytes { return tokenTooLong }
            switch state {
            case .text, .cdata, .startTag, .endTag:
                break  // handled above
            case .open:
                switch byte {
                case UInt8(ascii: "/"):
                    state = .endTag
                    depth -= 1
                case UInt8(ascii: "?"): state = .instruction
                case UInt8(ascii: "!"): state = .bang
                default:
                    state = .startTag
                    attributes = 0
                    quote = 0
                    beginStartTag(at: tagStart)
                    if byte == UInt8(ascii: ">") { endStartTag(at: offset + i - 1, previous: UInt8(ascii: "<")); state = .text }
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
                if byte == UInt8(ascii: ";") {
                    state = .text
                } else if byte == UInt8(ascii: "<") {
                    state = .open
                    tokenBytes = 1
                    tagStart = offset + i - 1
                }
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
                tagStart = offset + j
                guard i < n else {
                    state = .open
                    return nil
                }
                let next = base[i]
                if next == UInt8(ascii: "?") || next == UInt8(ascii: "!") || next == 0 || next == UInt8(ascii: ">") {
                    state = .open
                    return nil
                }
                i += 1
                tokenBytes = 2
                recent = recent << 8 | UInt32(next)
                if next == UInt8(ascii: "/") {
                    state = .endTag
                    depth -= 1
                } else {
                    state = .startTag
                    attributes = 0
                    quote = 0
                    beginStartTag(at: tagStart)
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
                    endStartTag(at: offset + i - 1, previous: i >= 2 ? base[i - 2] : lastByte)
                    break
                }
            }
            tokenBytes = tokens
            if tokenBytes > maxTokenBytes { return tokenTooLong }
            if ended {
                state = .text
                if cutsOnly && rootTagEnd != nil { return nil }  // on with ``scanCuts``
            }
        }
        return nil
    }

    /// Past the root's start tag with `cutsOnly`: follows depth from `<` to `<` and notes
    /// the cuts, with no verdicts. Linear, whatever the bytes: every byte is looked at at
    /// most once (sixteen at a time with SSE2 outside names and values), and the state
    /// carries over between chunks, so the cuts do not depend on where chunks end.
    ///
    /// The rules, byte by byte (``XMLCutScanTests`` holds them as a one-byte-at-a-time
    /// reference and checks this scan against it): in text, `<` opens markup; after it, `/`
    /// is an end tag (depth − 1; the root's ends the scan), `!-` a comment ending at the
    /// first `>` after two `-`, `![` a CDATA section ending at the first `>` after `]]`,
    /// any other `!` ends the scan (malformed), `?` a processing instruction ending at the
    /// first `>` after `?`; anything else is a start tag (a cut before it when it is
    /// directly below the root and far enough on; depth + 1) from the byte after `<`,
    /// ending at the first `>` outside quotes, `/>` closing it again.
    private mutating func scanCuts(_ base: UnsafePointer<UInt8>, count n: Int, from start: Int) {
        if cutState == .text && (depth <= 0 || nextCut == Int.max) { cutState = .done }
        var i = start
        while i < n {
            switch cutState {
            case .done:
                return
            case .text:
                i = scanCutsInText(base, count: n, from: i)
            case .lessThan:
                switch base[i] {
                case UInt8(ascii: "/"):
                    i += 1
                    depth -= 1
                    cutState = depth <= 0 ? .done : .text  // the root's end tag: nothing more to cut
                case UInt8(ascii: "!"):
                    i += 1
                    cutState = .bang
                case UInt8(ascii: "?"):
                    i += 1
                    cutState = .instruction
                default:
                    // A start tag; its first byte is the tag's too (`<>`, `<"`).
                    beginStartTag(at: tagStart)
                    cutState = nextCut == Int.max ? .done : .startTag
                }
            case .bang:
                let byte = base[i]
                i += 1
                // `<!--` or `<![CDATA[`; anything else (a DOCTYPE inside the root) is malformed.
                cutState = byte == UInt8(ascii: "-") ? .comment : byte == UInt8(ascii: "[") ? .cdata : .done
            case .startTag:
                let j = XMLMarkupGuard.findTagStop(in: base, from: i, to: n)
                if j == n { return }
                i = j + 1
                if base[j] == 0x3E {
                    if byte(before: j, in: base, back: 1) == UInt8(ascii: "/") { depth -= 1 }
                    cutState = .text
                } else {
                    quote = base[j]
                    cutState = .quoted
                }
            case .quoted:
                let j = XMLMarkupGuard.findByte(quote, in: base, from: i, to: n)
                if j == n { return }
                i = j + 1
                cutState = .startTag
            case .comment, .cdata, .instruction:
                let j = XMLMarkupGuard.findByte(0x3E, in: base, from: i, to: n)
                if j == n { return }
                i = j + 1
                let one = byte(before: j, in: base, back: 1), two = byte(before: j, in: base, back: 2)
                switch cutState {
                case .comment where one == UInt8(ascii: "-") && two == UInt8(ascii: "-"): cutState = .text
                case .cdata where one == UInt8(ascii: "]") && two == UInt8(ascii: "]"): cutState = .text
                case .instruction where one == UInt8(ascii: "?"): cutState = .text
                default: break
                }
            }
        }
    }

    /// The common path of ``scanCuts``: from text, tag after tag while each one (a start
    /// tag with its quoted values, or an end tag's `</`) lies within the chunk, without
    /// going back through the state switch. Returns where the general path goes on, with
    /// `cutState` set; at `n` when the chunk is done.
    @inline(__always)
    private mutating func scanCutsInText(_ base: UnsafePointer<UInt8>, count n: Int, from start: Int) -> Int {
        var i = start
        var depth = self.depth
        defer { self.depth = depth }
        while true {
            let j = XMLMarkupGuard.findByte(0x3C, in: base, from: i, to: n)
            if j &+ 1 >= n {
                if j < n {
                    tagStart = offset &+ j
                    cutState = .lessThan
                }
                return n
            }
            let next = base[j &+ 1]
            if next == UInt8(ascii: "/") {
                depth &-= 1
                i = j &+ 2
                if depth <= 0 {
                    cutState = .done
                    return n
                }
                continue
            }
            if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") {
                tagStart = offset &+ j
                cutState = .lessThan
                return j &+ 1
            }
            // A start tag: a cut before it when it is directly below the root and far enough on.
            if depth == 1 {
                let position = offset &+ j
                if position >= nextCut {
                    cuts.append(position)
                    nextCut = position &+ cutSpacing
                }
            }
            depth &+= 1
            // From the tag's first byte on (its name's, or a stray `>` or quote).
            var k = j &+ 1
            while true {
                k = XMLMarkupGuard.findTagStop(in: base, from: k, to: n)
                if k == n {
                    cutState = .startTag
                    return n
                }
                let byte = base[k]
                if byte == 0x3E { break }
                k = XMLMarkupGuard.findByte(byte, in: base, from: k &+ 1, to: n)
                if k == n {
                    quote = byte
                    cutState = .quoted
                    return n
                }
                k &+= 1
            }
            if base[k &- 1] == UInt8(ascii: "/") { depth &-= 1 }
            i = k &+ 1
        }
    }

    /// The byte `back` (1 or 2) places before index `j` of the chunk, from the previous
    /// chunks' last bytes when it lies before this one.
    @inline(__always)
    private func byte(before j: Int, in base: UnsafePointer<UInt8>, back: Int) -> UInt8 {
        let k = j - back
        if k >= 0 { return base[k] }
        return UInt8(truncatingIfNeeded: tail >> (8 * UInt16(-k - 1)))
    }

    /// Bit `b` set for each byte `b` below 64 that stops the start-tag loop.
    private static let startTagStops: UInt64 = 1 << 0 | 1 << 0x22 | 1 << 0x27 | 1 << 0x3D | 1 << 0x3E

    private var tokenTooLong: String { "a markup token is longer than input.xml.max_token_bytes (\(maxTokenBytes) bytes)" }

    /// The index of the first `>`, `"` or `'` in `base[from..<to]`, or `to` (the cut scan in a start tag).
    @inline(__always)
    static func findTagStop(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        #if arch(x86_64)
        let gt = _mm_set1_epi8(0x3E), dq = _mm_set1_epi8(0x22), sq = _mm_set1_epi8(0x27)
        @inline(__always) func stops(_ at: Int) -> Int32 {
            let v = _mm_loadu_si128(UnsafeRawPointer(base + at).assumingMemoryBound(to: __m128i.self))
            return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, dq)), _mm_cmpeq_epi8(v, sq)))
        }
        var i = start
        while i &+ 16 <= end {
            let m = stops(i)
            if m != 0 { return i &+ Int(m.trailingZeroBitCount) }
            i &+= 16
        }
        if i >= end { return end }
        if end >= 16 {
            // The last bytes: one step ending at `end` (within the buffer), the bytes before `i` shifted out.
            let m = Int(stops(end &- 16)) &>> (i &- (end &- 16))
            return m != 0 ? i &+ m.trailingZeroBitCount : end
        }
        return find(0x3E, 0x22, 0x27, in: base, from: i, to: end)
        #else
        return find(0x3E, 0x22, 0x27, in: base, from: start, to: end)
        #endif
    }

    /// The index of the first byte equal to `a` in `base[from..<to]`, or `to` (the cut scan).
    /// With SSE2 (part of the x86-64 baseline), sixteen bytes a step: one compare and one
    /// movemask; the last step ends at `to`, so no byte loop is left over.
    @inline(__always)
    static func findByte(_ a: UInt8, in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        #if arch(x86_64)
        let wanted = _mm_set1_epi8(CChar(bitPattern: a))
        @inline(__always) func hits(_ at: Int) -> Int32 {
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(UnsafeRawPointer(base + at).assumingMemoryBound(to: __m128i.self)), wanted))
        }
        var i = start
        while i &+ 16 <= end {
            let m = hits(i)
            if m != 0 { return i &+ Int(m.trailingZeroBitCount) }
            i &+= 16
        }
        if i >= end { return end }
        if end >= 16 {
            let m = Int(hits(end &- 16)) &>> (i &- (end &- 16))
            return m != 0 ? i &+ m.trailingZeroBitCount : end
        }
        return find(a, a, in: base, from: i, to: end)
        #else
        return find(a, a, in: base, from: start, to: end)
        #endif
    }

    /// The index of the first byte in `base[from..<to]` equal to `a`, `b` or `c`, or `to`.
    @inline(__always)
    private static func find(_ a: UInt8, _ b: UInt8, _ c: UInt8, in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let spreadA = ones &* UInt64(a), spreadB = ones &* UInt64(b), spreadC = ones &* UInt64(c)
        var i = start
        while i &+ 8 <= end {
            let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let xa = w ^ spreadA, xb = w ^ spreadB, xc = w ^ spreadC
            let hits = (((xa &- ones) & ~xa) | ((xb &- ones) & ~xb) | ((xc &- ones) & ~xc)) & (ones &* 0x80)
            if hits != 0 { return i &+ hits.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        while i < end {
            if base[i] == a || base[i] == b || base[i] == c { return i }
            i &+= 1
        }
        return end
    }

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
