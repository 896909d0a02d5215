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
struct XMLMarkupGuard {
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
    /// The last four non-NUL bytes, newest in the low byte.
    private var recent: UInt32 = 0

    init(maxAttributes: Int, maxTokenBytes: Int) {
        self.maxAttributes = maxAttributes
        self.maxTokenBytes = maxTokenBytes
    }

    /// Scans `chunk`; returns the violation that must fail the file, or nil.
    mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = chunk.baseAddress else { return nil }
        let n = chunk.count
        var i = 0
        while i < n {
            if state == .text || state == .cdata {
                // Jump to the next byte that can change the state.
                let target: Int32 = state == .text ? 0x3C : 0x3E
                guard let hit = memchr(base + i, target, n - i) else {
                    if state == .text, let amp = memchr(base + i, 0x26, n - i) {
                        state = .reference
                        tokenBytes = 1
                        i = base.distance(to: amp.assumingMemoryBound(to: UInt8.self)) + 1
                        continue
                    }
                    if n - i >= 2 { recent = UInt32(base[n - 2]) << 8 | UInt32(base[n - 1]) }
                    return nil
                }
                let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if state == .text {
                    // libxml2's push parser buffers from `&` until it sees `;`: bound that too.
                    if let amp = memchr(base + i, 0x26, j - i) {
                        state = .reference
                        tokenBytes = 1
                        i = base.distance(to: amp.assumingMemoryBound(to: UInt8.self)) + 1
                        continue
                    }
                    state = .open
                    tokenBytes = 1
                    recent = 0x3C
                    i = j + 1
                    continue
                }
                // In CDATA: a '>' ends it when the two bytes before it (skipping NULs) are "]]".
                var k = j - 1
                var seen: UInt32 = 0
                var count = 0
                while k >= i && count < 2 {
                    if base[k] != 0 { seen |= UInt32(base[k]) << (8 * UInt32(count)); count += 1 }
                    k -= 1
                }
                if count < 2 {
                    // Fill from the bytes remembered from the previous chunk.
                    seen = count == 1 ? (seen | (recent & 0xFF) << 8) : (recent & 0xFFFF)
                }
                recent = 0x3E
                i = j + 1
                if seen == 0x5D5D { state = .text }
                continue
            }
            if (state == .startTag && quote != 0) || state == .endTag {
                // Skip a quoted attribute value, or the rest of an end tag, at once.
                let target = Int32(state == .endTag ? 0x3E : quote)
                let hit = memchr(base + i, target, n - i)
                let j = hit.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? n
                tokenBytes += j - i
                if tokenBytes > maxTokenBytes {
                    return "a markup token is longer than input.xml.max_token_bytes (\(maxTokenBytes) bytes)"
                }
                i = j
                if hit == nil { return nil }
                i += 1
                recent = recent << 8 | UInt32(target)
                if state == .endTag { state = .text } else { quote = 0 }
                continue
            }
            let byte = base[i]
            i += 1
            if byte == 0 { continue }
            recent = recent << 8 | UInt32(byte)
            tokenBytes += 1
            if tokenBytes > maxTokenBytes {
                return "a markup token is longer than input.xml.max_token_bytes (\(maxTokenBytes) bytes)"
            }
            switch state {
            case .text, .cdata:
                break
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
            case .startTag:
                if quote != 0 {
                    if byte == quote { quote = 0 }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: "=") {
                    attributes += 1
                    if attributes > maxAttributes {
                        return "a start tag has more than input.xml.max_attributes (\(maxAttributes)) attributes"
                    }
                } else if byte == UInt8(ascii: ">") {
                    state = .text
                }
            case .endTag:
                if byte == UInt8(ascii: ">") { state = .text }
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
}
