import SluiceCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sluice's own XML tokenizer for the common case: one pass over UTF-8 bytes that checks
/// well-formedness and drives ``XMLParseState`` exactly as libxml2's SAX2 callbacks do
/// (the same names, attribute arrays, character data, lines and offsets), so the records,
/// their tapes and `limit` errors are the ones the libxml2 path makes.
///
/// The subset it accepts, and checks completely: an optional XML declaration (version
/// 1.0, encoding UTF-8 or none, standalone), comments, processing instructions, one root
/// element, elements with ASCII names (prefixes resolved against in-scope `xmlns:`
/// declarations, namespace declarations dropped from the attributes as libxml2 drops
/// them), attributes (unique, quoted, no `<`, whitespace normalized, `&` reported as
/// `&#38;` as libxml2 reports it), text, CDATA, the five predefined entities and
/// character references (legal characters only), only whitespace, comments and PIs
/// outside the root, a UTF-8 byte order mark, CRLF line ends when the first 64 KiB show
/// one (read as LF, as XML says and libxml2 does; offsets stay the file's). Every character is checked: well-formed
/// UTF-8, a legal XML character, no control characters, no `]]>` in text, no `--` in
/// comments.
///
/// Anything else — a DOCTYPE, another encoding, a carriage return not followed by LF, a
/// non-ASCII name, any other entity, a name past 1000 bytes, a token near `max_token_bytes`, more
/// than `max_attributes` attributes, nesting near `max_depth`, an unusual namespace
/// declaration, or any error — answers ``Step/fallback``: the caller then parses the
/// whole file (or segment) with libxml2, whose verdicts and messages stay the contract.
/// Nothing is expanded and nothing is loaded; a fallback is never an error by itself.
///
/// Chunks may end anywhere: an unfinished token (and at most the last few bytes of a text)
/// is carried over to the next chunk.
struct XMLFastTokenizer {
    enum Step: Equatable {
        case ok
        /// Outside the subset, or not well-formed: parse with libxml2 instead.
        case fallback
        /// ``XMLParseState/fault`` is set (the consumer's `emit` threw).
        case fault
    }

    private struct Open {
        var prefix: UnsafePointer<UInt8>?
        var local: UnsafePointer<UInt8>
        var prefixLength: Int
        var localLength: Int
        var bindings: Int
    }

    private struct Binding {
        /// nil: the default namespace.
        var prefix: UnsafePointer<UInt8>?
        var uri: UnsafePointer<UInt8>
    }

    private struct PendingAttribute {
        var prefix: UnsafePointer<UInt8>?
        var local: UnsafePointer<UInt8>
        var uri: UnsafePointer<UInt8>?
        /// In the input when `decoded` is false, else in ``values``.
        var start: Int
        var end: Int
        var decoded: Bool
        var isDeclaration: Bool
    }

    private var names = XMLNameTable()
    private var stack = XMLFastBuffer<Open>(capacity: 64)
    private var bindings = XMLFastBuffer<Binding>(capacity: 16)
    private var pending = XMLFastBuffer<PendingAttribute>(capacity: 16)
    /// libxml2's line numbers, counted as far as asked (shared with ``XMLParseState``).
    let lineCounter: UnsafeMutablePointer<XMLLineCounter>
    private var values: UnsafeMutablePointer<UInt8>
    private var valuesCapacity = 4096
    private var valuesCount = 0
    private var raw: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    private var rawCapacity = 64
    private let classes: UnsafeMutablePointer<UInt8>
    private var carry: UnsafeMutablePointer<UInt8>
    private var carryCapacity = 64 << 10
    private var carryCount = 0

    // CRLF line ends (see ``normalize``).
    private var isNormalizing = false
    private var returnScanLeft = 64 << 10
    private var normalized: UnsafeMutablePointer<UInt8>
    private var normalizedCapacity = 0
    /// The last chunk ended with a carriage return (dropped: the next byte must be LF).
    private var pendingReturn = false
    /// 3 when the document starts with a UTF-8 byte order mark, which libxml2 skips.
    private var byteOrderMark = 0
    private var checkedByteOrderMark = false

    /// Decoded offset of the current buffer's first byte.
    private var offsetBase = 0
    private var rootClosed = false
    private var seenRoot = false

    private let depthLimit: Int
    private let maxAttributes: Int
    /// Bytes a tag, comment or PI may take before libxml2 judges it (the markup guard's
    /// `max_token_bytes`, less a margin; halved for CRLF line ends, which it counts twice).
    private var tokenLimit: Int
    private let xmlURI: UnsafePointer<UInt8>
    private let xmlPrefix: UnsafePointer<UInt8>
    private let xmlnsName: UnsafePointer<UInt8>
    private let xmlnsURI: UnsafePointer<UInt8>

    /// Bytes carried over from one chunk to the next past this: libxml2 takes the file.
    private static let carryLimit = 4 << 20

    // Character classes.
    private static let textSpecial: UInt8 = 1
    private static let attributeSpecial: UInt8 = 2
    private static let nameChar: UInt8 = 4
    private static let nameStart: UInt8 = 8
    private static let markupSpecial: UInt8 = 16
    private static let space: UInt8 = 32

    init(options: XMLOptions) {
        depthLimit = min(options.maxDepth, 250)
        maxAttributes = options.maxAttributes
        tokenLimit = max(0, options.maxTokenBytes - 64)
        lineCounter = .allocate(capacity: 1)
        lineCounter.initialize(to: XMLLineCounter())
        values = .allocate(capacity: valuesCapacity)
        raw = .allocate(capacity: rawCapacity)
        carry = .allocate(capacity: carryCapacity)
        normalized = .allocate(capacity: 1)
        classes = .allocate(capacity: 256)
        classes.initialize(repeating: 0, count: 256)
        for c in 0..<256 {
            var k: UInt8 = 0
            let b = UInt8(c)
            let isLetter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            let isDigit = b >= 0x30 && b <= 0x39
            if isLetter || b == UInt8(ascii: "_") { k |= XMLFastTokenizer.nameStart | XMLFastTokenizer.nameChar }
            if isDigit || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") { k |= XMLFastTokenizer.nameChar }
            let control = b < 0x20 && b != 0x09 && b != 0x0A
            if control || b >= 0x80 || b == UInt8(ascii: "<") || b == UInt8(ascii: "&") || b == UInt8(ascii: "]") {
                k |= XMLFastTokenizer.textSpecial
            }
            if b < 0x20 || b >= 0x80 || b == UInt8(ascii: "<") || b == UInt8(ascii: "&") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                k |= XMLFastTokenizer.attributeSpecial
            }
            if control || b >= 0x80 || b == UInt8(ascii: "-") || b == UInt8(ascii: "?") || b == UInt8(ascii: "]") {
                k |= XMLFastTokenizer.markupSpecial
            }
            if b == 0x20 || b == 0x09 || b == 0x0A { k |= XMLFastTokenizer.space }
            classes[c] = k
        }
        xmlURI = names.intern("http://www.w3.org/XML/1998/namespace")
        xmlPrefix = names.intern("xml")
        xmlnsName = names.intern("xmlns")
        xmlnsURI = names.intern("http://www.w3.org/2000/xmlns/")
    }

    func deallocate() {
        stack.deallocate()
        bindings.deallocate()
        pending.deallocate()
        lineCounter.deallocate()
        names.deallocate()
        values.deallocate()
        raw.deallocate()
        classes.deallocate()
        carry.deallocate()
        normalized.deallocate()
    }

    // MARK: Feeding

    /// Tokenizes `chunk` (after what was carried over); `isLast` ends the document.
    mutating func feed(_ input: UnsafeBufferPointer<UInt8>, isLast: Bool, state: UnsafeMutablePointer<XMLParseState>) -> Step {
        var chunk = input
        // CRLF line ends: once the document's first 64 KiB showed a carriage return, every
        // chunk is tokenized as XML sees it, with each CRLF read as LF (see ``normalize``).
        // (A document whose first CR comes later is libxml2's: one scan, not one per chunk.)
        if returnScanLeft > 0, let base = input.baseAddress, input.count > 0 {
            let scanned = min(input.count, returnScanLeft)
            returnScanLeft -= scanned
            if memchr(base, 0x0D, scanned) != nil {
                returnScanLeft = 0
                isNormalizing = true
                tokenLimit /= 2
            }
        }
        if isNormalizing {
            guard let normalized = normalize(input, isLast: isLast) else { return .fallback }
            chunk = normalized
        }
        let n = chunk.count
        var from = 0
        if carryCount > 0, n > 0, let base = chunk.baseAddress {
            // A token was left unfinished: append only what likely finishes it, then go on
            // in the chunk itself rather than copy all of it after the carried bytes.
            var appended = min(n, XMLFastTokenizer.bridgeBytes)
            appendToCarry(base, count: appended)
            while true {
                let carried = carryCount - appended
                let whole = appended == n
                var consumed = 0
                let total = carryCount
                let step = run(UnsafePointer(carry), count: total, isLast: isLast && whole, consumed: &consumed, state: state)
                guard step == .ok else { return step }
                if consumed >= carried && !whole {
                    // Past the carried bytes: the rest is the chunk's, from `from` on.
                    from = consumed - carried
                    offsetBase += consumed
                    carryCount = 0
                    break
                }
                let rest = total - consumed
                if rest > 0 && consumed > 0 { carry.update(from: carry + consumed, count: rest) }
                carryCount = rest
                offsetBase += consumed
                if rest > XMLFastTokenizer.carryLimit { return .fallback }
                if whole {
                    if isLast { return rest > 0 ? .fallback : finishDocument() }
                    return .ok
                }
                // Still unfinished: the rest of the chunk goes after it.
                appendToCarry(base + appended, count: n - appended)
                appended = n
            }
        }
        if carryCount == 0, let base = chunk.baseAddress {
            var consumed = 0
            let step = run(base + from, count: n - from, isLast: isLast, consumed: &consumed, state: state)
            guard step == .ok else { return step }
            return keep(base + from + consumed, count: n - from - consumed, advancing: consumed, isLast: isLast)
        }
        if carryCount == 0 { return isLast ? finishDocument() : .ok }
        // No bytes: the document ends after the carried ones.
        var consumed = 0
        let total = carryCount
        let step = run(UnsafePointer(carry), count: total, isLast: isLast, consumed: &consumed, state: state)
        guard step == .ok else { return step }
        let rest = total - consumed
        if rest > 0 && consumed > 0 { carry.update(from: carry + consumed, count: rest) }
        carryCount = rest
        offsetBase += consumed
        if rest > XMLFastTokenizer.carryLimit { return .fallback }
        if isLast { return rest > 0 ? .fallback : finishDocument() }
        return .ok
    }

    /// Chunk bytes appended to an unfinished token before tokenizing on in the chunk.
    private static let bridgeBytes = 4 << 10

    private mutating func appendToCarry(_ base: UnsafePointer<UInt8>, count n: Int) {
        if carryCount + n > carryCapacity {
            var capacity = carryCapacity * 2
            while capacity < carryCount + n { capacity *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: carry, count: carryCount)
            carry.deallocate()
            carry = grown
            carryCapacity = capacity
        }
        (carry + carryCount).update(from: base, count: n)
        carryCount += n
    }

    /// Keeps the unconsumed end of a chunk tokenized in place.
    private mutating func keep(_ rest: UnsafePointer<UInt8>, count: Int, advancing consumed: Int, isLast: Bool) -> Step {
        offsetBase += consumed
        if count > 0 {
            if isLast { return .fallback }
            if count > carryCapacity {
                carry.deallocate()
                carryCapacity = max(count, carryCapacity * 2)
                carry = .allocate(capacity: carryCapacity)
            }
            carry.update(from: rest, count: count)
            carryCount = count
            if count > XMLFastTokenizer.carryLimit { return .fallback }
        }
        return isLast ? finishDocument() : .ok
    }

    private func finishDocument() -> Step {
        seenRoot && rootClosed && stack.isEmpty ? .ok : .fallback
    }

    /// `chunk` with every CRLF as LF — XML's end-of-line handling, which libxml2 applies
    /// before anything else reads the bytes: text, CDATA and attribute values see one LF
    /// (an attribute value then one space), and libxml2 counts one line. The offsets of the
    /// dropped carriage returns go to ``lineCounter`` (``XMLLineCounter/rawOffset(_:)``), so
    /// records' offsets stay those of the file's bytes. A carriage return at the chunk's end
    /// waits for the next byte; one not followed by LF is left to libxml2 (nil), whose line
    /// counting for a lone CR differs from one context to another.
    private mutating func normalize(_ chunk: UnsafeBufferPointer<UInt8>, isLast: Bool) -> UnsafeBufferPointer<UInt8>? {
        let n = chunk.count
        if normalizedCapacity < n {
            normalized.deallocate()
            normalizedCapacity = max(n, 2 * normalizedCapacity)
            normalized = .allocate(capacity: normalizedCapacity)
        }
        // This chunk's first byte, in the offsets the tokenizer counts.
        let start = offsetBase + carryCount
        lineCounter.pointee.forgetDroppedReturns()
        guard let base = chunk.baseAddress, n > 0 else {
            if pendingReturn && isLast { return nil }
            return UnsafeBufferPointer(start: normalized, count: 0)
        }
        if pendingReturn {
            guard base[0] == 0x0A else { return nil }
            pendingReturn = false
            lineCounter.pointee.noteDroppedReturn(before: start)
        }
        var i = 0
        var out = 0
        while i < n {
            guard let found = memchr(base + i, 0x0D, n - i) else {
                (normalized + out).update(from: base + i, count: n - i)
                out += n - i
                break
            }
            let r = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            (normalized + out).update(from: base + i, count: r - i)
            out += r - i
            if r + 1 == n {
                if isLast { return nil }
                pendingReturn = true
                break
            }
            guard base[r + 1] == 0x0A else { return nil }
            lineCounter.pointee.noteDroppedReturn(before: start + out)
            i = r + 1
        }
        return UnsafeBufferPointer(start: normalized, count: out)
    }

    // MARK: The tokenizer

    private static let needMore = -1
    private static let unsupported = -2
    private static let faulted = -3

    /// Tokenizes `base[0..<n]`; `consumed` is where an unfinished token starts (the rest
    /// is carried over), or `n`.
    private mutating func run(_ base: UnsafePointer<UInt8>, count n: Int, isLast: Bool, consumed: inout Int,
                              state: UnsafeMutablePointer<XMLParseState>) -> Step {
        let classes = UnsafePointer(self.classes)
        var i = 0
        defer { lineCounter.pointee.count(to: consumed, in: base, bufferStart: offsetBase) }
        if !checkedByteOrderMark {
            // A UTF-8 byte order mark: libxml2 skips it (its bytes still count in offsets).
            let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
            var k = 0
            while k < 3 && k < n && base[k] == mark[k] { k += 1 }
            if k == n && n < 3 && !isLast {
                consumed = 0
                return .ok
            }
            checkedByteOrderMark = true
            if k == 3 {
                byteOrderMark = 3
                i = 3
            }
        }
        while true {
            // Text up to the next '<' or '&'.
            let textStart = i
            var stop = n
            while i < n {
                let c = base[i]
                if classes[Int(c)] & XMLFastTokenizer.textSpecial == 0 {
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "]") {
                    if i + 2 >= n {
                        if isLast {
                            i += 1
                            continue
                        }
                        stop = i
                        break
                    }
                    if base[i + 1] == UInt8(ascii: "]") && base[i + 2] == UInt8(ascii: ">") { return .fallback }
                    i += 1
                    continue
                }
                if c >= 0x80 {
                    let length = XMLFastTokenizer.characterLength(base, i, n)
                    if length > 0 {
                        i += length
                        continue
                    }
                    if length < 0 && !isLast {
                        stop = i
                        break
                    }
                    return .fallback
                }
                if c == UInt8(ascii: "<") || c == UInt8(ascii: "&") {
                    stop = i
                    break
                }
                return .fallback  // a control character or a carriage return
            }
            if stop == n { stop = i }
            if stop > textStart {
                if stack.isEmpty {
                    for k in textStart..<stop where classes[Int(base[k])] & XMLFastTokenizer.space == 0 { return .fallback }
                } else if state.pointee.wantsCharacters {
                    // Whitespace only right before a tag (indentation) ends its run there;
                    // such a run is left out of the record, so the tree needs only its size.
                    if stop + 1 < n && base[stop] == UInt8(ascii: "<")
                        && (classes[Int(base[stop + 1])] & XMLFastTokenizer.nameStart != 0 || base[stop + 1] == UInt8(ascii: "/"))
                        && XMLRecordTree.isBlank(base + textStart, count: stop - textStart) {
                        state.pointee.blankBeforeTag(base + textStart, count: stop - textStart)
                    } else {
                        state.pointee.characters(base + textStart, count: stop - textStart)
                    }
                }
            }
            i = stop
            if i >= n {
                consumed = n
                return .ok
            }
            let c = base[i]
            if c == UInt8(ascii: "&") {
                if stack.isEmpty { return .fallback }
                var code: UInt32 = 0
                let end = XMLFastTokenizer.reference(base, i, n, &code)
                if end == XMLFastTokenizer.needMore {
                    if isLast { return .fallback }
                    consumed = i
                    return .ok
                }
                if end < 0 { return .fallback }
                if state.pointee.wantsCharacters {
                    var utf8: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                    let length = XMLFastTokenizer.encode(code, &utf8)
                    withUnsafeBytes(of: &utf8) { state.pointee.characters($0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length) }
                }
                i = end
                continue
            }
            if c != UInt8(ascii: "<") {
                // A ']' or a partial character at the end of the buffer: carry it over.
                consumed = i
                return .ok
            }
            let end = markup(base, i, n, isLast: isLast, state: state)
            if end == XMLFastTokenizer.needMore {
                if isLast { return .fallback }
                consumed = i
                return .ok
            }
            if end == XMLFastTokenizer.faulted { return .fault }
            if end < 0 { return .fallback }
            i = end
        }
    }

    /// The markup at `base[i] == '<'`: returns the index after it, or a negative code.
    @inline(__always)
    private mutating func markup(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int, isLast: Bool,
                                 state: UnsafeMutablePointer<XMLParseState>) -> Int {
        guard i + 1 < n else { return XMLFastTokenizer.needMore }
        let c = base[i + 1]
        if classes[Int(c)] & XMLFastTokenizer.nameStart != 0 { return startTag(base, i, n, state: state) }
        if c == UInt8(ascii: "/") { return endTag(base, i, n, state: state) }
        if c == UInt8(ascii: "!") {
            guard i + 3 < n else { return XMLFastTokenizer.needMore }
            if base[i + 2] == UInt8(ascii: "-") && base[i + 3] == UInt8(ascii: "-") { return comment(base, i, n) }
            guard i + 8 < n else { return XMLFastTokenizer.needMore }
            if !stack.isEmpty && memcmp(base + i + 2, "[CDATA[", 7) == 0 { return cdata(base, i, n, state: state) }
            return XMLFastTokenizer.unsupported
        }
        if c == UInt8(ascii: "?") { return instruction(base, i, n) }
        return XMLFastTokenizer.unsupported
    }

    /// A name from `j`: returns its end (the first byte that is not a name character) and
    /// the position of its one colon (or -1); unsupported for a non-ASCII byte, two
    /// colons, an empty prefix or local part, or a name past 1000 bytes.
    @inline(__always)
    private func name(_ base: UnsafePointer<UInt8>, _ j: Int, _ n: Int, colon: inout Int) -> Int {
        var k = j
        colon = -1
        while k < n {
            let c = base[k]
            if classes[Int(c)] & XMLFastTokenizer.nameChar != 0 {
                k += 1
                continue
            }
            if c == UInt8(ascii: ":") {
                if colon >= 0 { return XMLFastTokenizer.unsupported }
                colon = k
                k += 1
                // The local part starts as a name does.
                guard k < n else { return XMLFastTokenizer.needMore }
                if classes[Int(base[k])] & XMLFastTokenizer.nameStart == 0 { return XMLFastTokenizer.unsupported }
                continue
            }
            if c >= 0x80 { return XMLFastTokenizer.unsupported }
            break
        }
        if k == n { return XMLFastTokenizer.needMore }
        if k - j > 1000 { return XMLFastTokenizer.unsupported }
        return k
    }

    @inline(__always)
    private func skipSpace(_ base: UnsafePointer<UInt8>, _ j: inout Int, _ n: Int) {
        while j < n && classes[Int(base[j])] & XMLFastTokenizer.space != 0 { j += 1 }
    }

    private mutating func startTag(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int, state: UnsafeMutablePointer<XMLParseState>) -> Int {
        if rootClosed { return XMLFastTokenizer.unsupported }
        var colon = -1
        let nameEnd = name(base, i + 1, n, colon: &colon)
        if nameEnd < 0 { return nameEnd }
        pending.removeAll()
        valuesCount = 0
        var j = nameEnd
        var closeAt = 0
        var isEmpty = false
        while true {
            let before = j
            skipSpace(base, &j, n)
            guard j < n else { return XMLFastTokenizer.needMore }
            let c = base[j]
            if c == UInt8(ascii: ">") {
                closeAt = j
                j += 1
                break
            }
            if c == UInt8(ascii: "/") {
                guard j + 1 < n else { return XMLFastTokenizer.needMore }
                if base[j + 1] != UInt8(ascii: ">") { return XMLFastTokenizer.unsupported }
                closeAt = j
                isEmpty = true
                j += 2
                break
            }
            if j == before || classes[Int(c)] & XMLFastTokenizer.nameStart == 0 { return XMLFastTokenizer.unsupported }
            var attributeColon = -1
            let attributeEnd = name(base, j, n, colon: &attributeColon)
            if attributeEnd < 0 { return attributeEnd }
            let attributeStart = j
            j = attributeEnd
            skipSpace(base, &j, n)
            guard j < n else { return XMLFastTokenizer.needMore }
            if base[j] != UInt8(ascii: "=") { return XMLFastTokenizer.unsupported }
            j += 1
            skipSpace(base, &j, n)
            guard j < n else { return XMLFastTokenizer.needMore }
            let quote = base[j]
            if quote != UInt8(ascii: "\"") && quote != UInt8(ascii: "'") { return XMLFastTokenizer.unsupported }
            j += 1
            let valueStart = j
            var needsDecoding = false
            while true {
                while j < n && classes[Int(base[j])] & XMLFastTokenizer.attributeSpecial == 0 { j += 1 }
                guard j < n else { return XMLFastTokenizer.needMore }
                let v = base[j]
                if v == quote { break }
                if v == UInt8(ascii: "\"") || v == UInt8(ascii: "'") {
                    j += 1
                } else if v == 0x09 || v == 0x0A {
                    needsDecoding = true
                    j += 1
                } else if v == UInt8(ascii: "&") {
                    needsDecoding = true
                    var code: UInt32 = 0
                    let end = XMLFastTokenizer.reference(base, j, n, &code)
                    if end < 0 { return end }
                    j = end
                } else if v >= 0x80 {
                    let length = XMLFastTokenizer.characterLength(base, j, n)
                    if length < 0 { return XMLFastTokenizer.needMore }
                    if length == 0 { return XMLFastTokenizer.unsupported }
                    j += length
                } else {
                    return XMLFastTokenizer.unsupported  // '<', a control character, a carriage return
                }
                if j - i > tokenLimit { return XMLFastTokenizer.unsupported }
            }
            let valueEnd = j
            j += 1
            if pending.count >= maxAttributes { return XMLFastTokenizer.unsupported }
            var attribute = PendingAttribute(prefix: nil, local: xmlnsName, uri: nil, start: valueStart, end: valueEnd,
                                             decoded: false, isDeclaration: false)
            if needsDecoding {
                attribute.start = valuesCount
                decodeValue(base, valueStart, valueEnd)
                attribute.end = valuesCount
                attribute.decoded = true
            }
            if attributeColon >= 0 {
                attribute.prefix = names.intern(base + attributeStart, count: attributeColon - attributeStart)
                attribute.local = names.intern(base + attributeColon + 1, count: attributeEnd - attributeColon - 1)
                attribute.isDeclaration = attribute.prefix == xmlnsName
            } else {
                attribute.local = names.intern(base + attributeStart, count: attributeEnd - attributeStart)
                attribute.isDeclaration = attribute.local == xmlnsName
            }
            pending.append(attribute)
            if j - i > tokenLimit { return XMLFastTokenizer.unsupported }
        }
        if j - i > tokenLimit || stack.count >= depthLimit { return XMLFastTokenizer.unsupported }

        // The tag is complete: names, namespaces, duplicates.
        let prefix: UnsafePointer<UInt8>?
        let local: UnsafePointer<UInt8>
        if colon >= 0 {
            prefix = names.intern(base + i + 1, count: colon - i - 1)
            local = names.intern(base + colon + 1, count: nameEnd - colon - 1)
        } else {
            prefix = nil
            local = names.intern(base + i + 1, count: nameEnd - i - 1)
        }
        let bindingsBefore = bindings.count
        var kept = 0
        for a in 0..<pending.count {
            let attribute = pending[a]
            guard attribute.isDeclaration else {
                kept += 1
                continue
            }
            if attribute.decoded { return unbind(bindingsBefore) }
            let declared = attribute.prefix == nil ? nil : Optional(attribute.local)
            if declared == xmlPrefix || declared == xmlnsName { return unbind(bindingsBefore) }
            let count = attribute.end - attribute.start
            if declared != nil && count == 0 { return unbind(bindingsBefore) }
            if count > 0 && !XMLFastTokenizer.isPlainURI(base + attribute.start, count) { return unbind(bindingsBefore) }
            let uri = names.intern(base + attribute.start, count: count)
            if uri == xmlURI || uri == xmlnsURI { return unbind(bindingsBefore) }
            for b in bindingsBefore..<bindings.count where bindings[b].prefix == declared { return unbind(bindingsBefore) }
            bindings.append(Binding(prefix: declared, uri: uri))
        }
        if let prefix, lookUp(prefix) == nil { return unbind(bindingsBefore) }
        if kept > 0 {
            if rawCapacity < 5 * kept {
                raw.deallocate()
                rawCapacity = 5 * kept
                raw = .allocate(capacity: rawCapacity)
            }
            var r = 0
            for a in 0..<pending.count where !pending[a].isDeclaration {
                var attribute = pending[a]
                if let attributePrefix = attribute.prefix {
                    if attributePrefix == xmlPrefix {
                        attribute.uri = xmlURI
                    } else {
                        guard let uri = lookUp(attributePrefix) else { return unbind(bindingsBefore) }
                        attribute.uri = uri
                    }
                    pending[a].uri = attribute.uri
                }
                for b in 0..<a where !pending[b].isDeclaration && pending[b].local == attribute.local
                    && (pending[b].prefix == nil) == (attribute.prefix == nil) && pending[b].uri == attribute.uri {
                    return unbind(bindingsBefore)
                }
                let source = attribute.decoded ? UnsafePointer(values) : base
                raw[5 * r] = attribute.local
                raw[5 * r + 1] = attribute.prefix
                raw[5 * r + 2] = attribute.uri
                raw[5 * r + 3] = source + attribute.start
                raw[5 * r + 4] = source + attribute.end
                r += 1
            }
        }
        state.pointee.fastBase = base
        state.pointee.fastIndex = closeAt
        state.pointee.fastOffset = offsetBase + closeAt
        state.pointee.startElement(prefix: prefix, local: local, attributeCount: kept, attributes: kept > 0 ? raw : nil)
        if state.pointee.fault != nil { return XMLFastTokenizer.faulted }
        seenRoot = true
        if isEmpty {
            state.pointee.endElement()
            if state.pointee.fault != nil { return XMLFastTokenizer.faulted }
            bindings.truncate(to: bindingsBefore)
            if stack.isEmpty { rootClosed = true }
        } else {
            stack.append(Open(prefix: prefix, local: local, prefixLength: colon >= 0 ? colon - i - 1 : 0,
                              localLength: colon >= 0 ? nameEnd - colon - 1 : nameEnd - i - 1, bindings: bindingsBefore))
        }
        return j
    }

    private mutating func unbind(_ count: Int) -> Int {
        bindings.truncate(to: count)
        return XMLFastTokenizer.unsupported
    }

    private func lookUp(_ prefix: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        var b = bindings.count - 1
        while b >= 0 {
            if bindings[b].prefix == prefix { return bindings[b].uri }
            b -= 1
        }
        return nil
    }

    private mutating func endTag(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int, state: UnsafeMutablePointer<XMLParseState>) -> Int {
        guard let open = stack.last else { return XMLFastTokenizer.unsupported }
        let start = i + 2
        // The open element's name, byte for byte, and then no more name characters.
        let total = open.prefix == nil ? open.localLength : open.prefixLength + 1 + open.localLength
        let nameEnd = start + total
        guard nameEnd < n else { return XMLFastTokenizer.needMore }
        if let prefix = open.prefix {
            guard XMLFastTokenizer.equal(base + start, prefix, open.prefixLength), base[start + open.prefixLength] == UInt8(ascii: ":"),
                  XMLFastTokenizer.equal(base + start + open.prefixLength + 1, open.local, open.localLength) else { return XMLFastTokenizer.unsupported }
        } else {
            guard XMLFastTokenizer.equal(base + start, open.local, open.localLength) else { return XMLFastTokenizer.unsupported }
        }
        let after = base[nameEnd]
        if classes[Int(after)] & XMLFastTokenizer.nameChar != 0 || after == UInt8(ascii: ":") || after >= 0x80 {
            return XMLFastTokenizer.unsupported
        }
        var j = nameEnd
        skipSpace(base, &j, n)
        guard j < n else { return XMLFastTokenizer.needMore }
        if base[j] != UInt8(ascii: ">") { return XMLFastTokenizer.unsupported }
        if j - i > tokenLimit { return XMLFastTokenizer.unsupported }
        state.pointee.endElement()
        if state.pointee.fault != nil { return XMLFastTokenizer.faulted }
        stack.removeLast()
        bindings.truncate(to: open.bindings)
        if stack.isEmpty { rootClosed = true }
        return j + 1
    }

    /// The byte `c` at `base[j]` in a comment, CDATA or PI, past what the construct itself
    /// looks for: a legal non-ASCII character moves `j` past it (nil); else the answer —
    /// more bytes needed, or unsupported (malformed UTF-8, a control character, a CR).
    @inline(__always)
    private static func skipCharacter(_ c: UInt8, _ base: UnsafePointer<UInt8>, _ j: inout Int, _ n: Int) -> Int? {
        guard c >= 0x80 else { return unsupported }
        let length = characterLength(base, j, n)
        if length < 0 { return needMore }
        if length == 0 { return unsupported }
        j += length
        return nil
    }

    /// `<!--` … `-->` without `--` inside and legal characters only.
    private func comment(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        var j = i + 4
        while true {
            while j < n && classes[Int(base[j])] & XMLFastTokenizer.markupSpecial == 0 { j += 1 }
            if j - i > tokenLimit { return XMLFastTokenizer.unsupported }
            guard j < n else { return XMLFastTokenizer.needMore }
            let c = base[j]
            if c == UInt8(ascii: "-") {
                guard j + 2 < n else { return XMLFastTokenizer.needMore }
                if base[j + 1] == UInt8(ascii: "-") {
                    return base[j + 2] == UInt8(ascii: ">") ? j + 3 : XMLFastTokenizer.unsupported
                }
                j += 1
            } else if c == UInt8(ascii: "?") || c == UInt8(ascii: "]") {
                j += 1
            } else if let answer = XMLFastTokenizer.skipCharacter(c, base, &j, n) {
                return answer
            }
        }
    }

    /// `<![CDATA[` … `]]>` inside the root: its content is character data.
    private func cdata(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int, state: UnsafeMutablePointer<XMLParseState>) -> Int {
        let start = i + 9
        var j = start
        while true {
            while j < n && classes[Int(base[j])] & XMLFastTokenizer.markupSpecial == 0 { j += 1 }
            guard j < n else { return XMLFastTokenizer.needMore }
            let c = base[j]
            if c == UInt8(ascii: "]") {
                guard j + 2 < n else { return XMLFastTokenizer.needMore }
                if base[j + 1] == UInt8(ascii: "]") && base[j + 2] == UInt8(ascii: ">") {
                    if j > start && state.pointee.wantsCharacters {
                        if isNormalizing {
                            withReturns(base, start, j, state: state)
                        } else {
                            state.pointee.characters(base + start, count: j - start)
                        }
                    }
                    return j + 3
                }
                j += 1
            } else if c == UInt8(ascii: "?") || c == UInt8(ascii: "-") {
                j += 1
            } else if let answer = XMLFastTokenizer.skipCharacter(c, base, &j, n) {
                return answer
            }
            if j - start > XMLFastTokenizer.carryLimit { return XMLFastTokenizer.unsupported }
        }
    }

    /// Reports CDATA content `base[start..<end]` with the carriage returns of its CRLFs put
    /// back: libxml2's push parser hands a CDATA section over as written (lines still count once).
    private func withReturns(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, state: UnsafeMutablePointer<XMLParseState>) {
        var from = start
        var carriageReturn: UInt8 = 0x0D
        lineCounter.pointee.forEachDroppedReturn(from: offsetBase + start, to: offsetBase + end) { offset in
            let at = offset - offsetBase
            if at > from { state.pointee.characters(base + from, count: at - from) }
            state.pointee.characters(&carriageReturn, count: 1)
            from = at
        }
        if end > from { state.pointee.characters(base + from, count: end - from) }
    }

    /// `<?target data?>`, or the XML declaration at the document's first byte.
    private func instruction(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let start = i + 2
        guard start < n else { return XMLFastTokenizer.needMore }
        if classes[Int(base[start])] & XMLFastTokenizer.nameStart == 0 { return XMLFastTokenizer.unsupported }
        var colon = -1
        let end = name(base, start, n, colon: &colon)
        if end < 0 { return end }
        if colon >= 0 { return XMLFastTokenizer.unsupported }
        if end - start == 3 && (base[start] | 0x20) == UInt8(ascii: "x") && (base[start + 1] | 0x20) == UInt8(ascii: "m")
            && (base[start + 2] | 0x20) == UInt8(ascii: "l") {
            guard offsetBase + i == byteOrderMark, base[start] == UInt8(ascii: "x"), base[start + 1] == UInt8(ascii: "m"),
                  base[start + 2] == UInt8(ascii: "l") else { return XMLFastTokenizer.unsupported }
            return declaration(base, end, n)
        }
        var j = end
        guard j + 1 < n else { return XMLFastTokenizer.needMore }  // `?>` may follow in the next chunk
        if base[j] == UInt8(ascii: "?") && base[j + 1] == UInt8(ascii: ">") { return j + 2 }
        if classes[Int(base[j])] & XMLFastTokenizer.space == 0 { return XMLFastTokenizer.unsupported }
        while true {
            while j < n && classes[Int(base[j])] & XMLFastTokenizer.markupSpecial == 0 { j += 1 }
            if j - i > tokenLimit { return XMLFastTokenizer.unsupported }
            guard j < n else { return XMLFastTokenizer.needMore }
            let c = base[j]
            if c == UInt8(ascii: "?") {
                guard j + 1 < n else { return XMLFastTokenizer.needMore }
                if base[j + 1] == UInt8(ascii: ">") { return j + 2 }
                j += 1
            } else if c == UInt8(ascii: "-") || c == UInt8(ascii: "]") {
                j += 1
            } else if let answer = XMLFastTokenizer.skipCharacter(c, base, &j, n) {
                return answer
            }
        }
    }

    /// The rest of `<?xml` from `j`: version 1.0, then optionally encoding UTF-8 and
    /// standalone yes or no, in that order; anything else is libxml2's to judge.
    private func declaration(_ base: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Int {
        var j = start
        func expect(_ literal: String) -> Bool {
            for byte in literal.utf8 {
                guard j < n, base[j] == byte else { return false }
                j += 1
            }
            return true
        }
        func pseudoAttribute(_ key: String, _ accepted: [String], caseless: Bool) -> Int {
            let before = j
            skipSpace(base, &j, n)
            if j == before { return 0 }
            guard j < n else { return XMLFastTokenizer.needMore }
            guard expect(key) else {
                j = before
                return 0
            }
            skipSpace(base, &j, n)
            guard expect("=") else { return XMLFastTokenizer.unsupported }
            skipSpace(base, &j, n)
            guard j < n else { return XMLFastTokenizer.needMore }
            let quote = base[j]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return XMLFastTokenizer.unsupported }
            j += 1
            let valueStart = j
            while j < n && base[j] != quote && j - valueStart < 32 { j += 1 }
            guard j < n else { return XMLFastTokenizer.needMore }
            guard base[j] == quote else { return XMLFastTokenizer.unsupported }
            let value = String(decoding: UnsafeBufferPointer(start: base + valueStart, count: j - valueStart), as: UTF8.self)
            j += 1
            let matches = accepted.contains { caseless ? $0 == value.lowercased() : $0 == value }
            return matches ? 1 : XMLFastTokenizer.unsupported
        }
        // The whole declaration first (it is short): then a missing part is an answer, not a wait.
        var k = start
        let limit = min(n, start + 256)
        while k + 1 < limit && !(base[k] == UInt8(ascii: "?") && base[k + 1] == UInt8(ascii: ">")) { k += 1 }
        if k + 1 >= limit { return limit == n ? XMLFastTokenizer.needMore : XMLFastTokenizer.unsupported }
        let n = k + 2
        let version = pseudoAttribute("version", ["1.0"], caseless: false)
        if version != 1 { return version == 0 ? XMLFastTokenizer.unsupported : version }
        let encoding = pseudoAttribute("encoding", ["utf-8"], caseless: true)
        if encoding < 0 { return encoding }
        let standalone = pseudoAttribute("standalone", ["yes", "no"], caseless: false)
        if standalone < 0 { return standalone }
        skipSpace(base, &j, n)
        guard j + 1 < n else { return XMLFastTokenizer.needMore }
        guard base[j] == UInt8(ascii: "?"), base[j + 1] == UInt8(ascii: ">") else { return XMLFastTokenizer.unsupported }
        return j + 2
    }

    /// Decodes an attribute value as libxml2 reports it to SAX: whitespace characters
    /// written as such become spaces, references become their character, and `&` (from
    /// `&amp;` or `&#38;`) is written `&#38;`.
    private mutating func decodeValue(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) {
        let needed = valuesCount + 5 * (end - start) + 8
        if needed > valuesCapacity {
            var capacity = valuesCapacity * 2
            while capacity < needed { capacity *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: values, count: valuesCount)
            values.deallocate()
            values = grown
            valuesCapacity = capacity
        }
        var j = start
        while j < end {
            let c = base[j]
            if c == 0x09 || c == 0x0A {
                values[valuesCount] = 0x20
                valuesCount += 1
                j += 1
            } else if c == UInt8(ascii: "&") {
                var code: UInt32 = 0
                let next = XMLFastTokenizer.reference(base, j, end, &code)  // checked while scanning
                guard next > j else { break }  // cannot happen; never loop on it
                j = next
                if code == 0x26 {
                    for byte in "&#38;".utf8 {
                        values[valuesCount] = byte
                        valuesCount += 1
                    }
                } else {
                    var utf8: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                    let length = XMLFastTokenizer.encode(code, &utf8)
                    withUnsafeBytes(of: &utf8) { bytes in
                        for k in 0..<length { values[valuesCount + k] = bytes[k] }
                    }
                    valuesCount += length
                }
            } else {
                values[valuesCount] = c
                valuesCount += 1
                j += 1
            }
        }
    }

    /// `a[0..<n] == b[0..<n]`, a word at a time (names are short).
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
        if n >= 8 {
            var k = 0
            while k + 8 <= n {
                if x.loadUnaligned(fromByteOffset: k, as: UInt64.self) != y.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
                k += 8
            }
            return k == n || x.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 {
            return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
                && x.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        var k = 0
        while k < n {
            if a[k] != b[k] { return false }
            k += 1
        }
        return true
    }

    // MARK: Characters and references

    /// The length of the UTF-8 sequence at `p[i]` (a lead byte ≥ 0x80) when it is
    /// well-formed and encodes a legal XML character; 0 when not; -1 when it runs past `n`.
    @inline(__always)
    static func characterLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let c = p[i]
        @inline(__always) func continuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
        if c < 0xC2 { return 0 }
        if c < 0xE0 {
            guard i + 1 < n else { return -1 }
            return continuation(p[i + 1]) ? 2 : 0
        }
        if c < 0xF0 {
            guard i + 2 < n else { return -1 }
            let b1 = p[i + 1], b2 = p[i + 2]
            guard continuation(b1), continuation(b2) else { return 0 }
            if c == 0xE0 && b1 < 0xA0 { return 0 }  // overlong
            if c == 0xED && b1 >= 0xA0 { return 0 }  // surrogates
            if c == 0xEF && b1 == 0xBF && b2 >= 0xBE { return 0 }  // U+FFFE, U+FFFF
            return 3
        }
        if c < 0xF5 {
            guard i + 3 < n else { return -1 }
            let b1 = p[i + 1]
            guard continuation(b1), continuation(p[i + 2]), continuation(p[i + 3]) else { return 0 }
            if c == 0xF0 && b1 < 0x90 { return 0 }
            if c == 0xF4 && b1 >= 0x90 { return 0 }
            return 4
        }
        return 0
    }

    /// A reference at `p[i] == '&'`: the five predefined entities and character references
    /// to legal characters. Returns the index after its `;` and sets `code`, or a negative code.
    static func reference(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int, _ code: inout UInt32) -> Int {
        var j = i + 1
        guard j < n else { return needMore }
        if p[j] == UInt8(ascii: "#") {
            j += 1
            guard j < n else { return needMore }
            var value: UInt32 = 0
            var digits = 0
            if p[j] == UInt8(ascii: "x") {
                j += 1
                while j < n {
                    let d = p[j]
                    let v: UInt32
                    if d >= 0x30 && d <= 0x39 { v = UInt32(d - 0x30) }
                    else if d >= 0x61 && d <= 0x66 { v = UInt32(d - 0x61 + 10) }
                    else if d >= 0x41 && d <= 0x46 { v = UInt32(d - 0x41 + 10) }
                    else { break }
                    value = value << 4 | v
                    digits += 1
                    if digits > 8 { return unsupported }
                    j += 1
                }
            } else {
                while j < n {
                    let d = p[j]
                    guard d >= 0x30 && d <= 0x39 else { break }
                    value = value * 10 + UInt32(d - 0x30)
                    digits += 1
                    if digits > 8 { return unsupported }
                    j += 1
                }
            }
            guard j < n else { return needMore }
            guard digits > 0, p[j] == UInt8(ascii: ";") else { return unsupported }
            let legal = value == 0x9 || value == 0xA || value == 0xD || (value >= 0x20 && value <= 0xD7FF)
                || (value >= 0xE000 && value <= 0xFFFD) || (value >= 0x10000 && value <= 0x10FFFF)
            guard legal else { return unsupported }
            code = value
            return j + 1
        }
        let start = j
        while j < n && j - start < 5 && p[j] != UInt8(ascii: ";") { j += 1 }
        guard j < n else { return needMore }
        guard p[j] == UInt8(ascii: ";") else { return unsupported }
        let length = j - start
        let a = p[start]
        switch length {
        case 2 where a == UInt8(ascii: "l") && p[start + 1] == UInt8(ascii: "t"): code = 0x3C
        case 2 where a == UInt8(ascii: "g") && p[start + 1] == UInt8(ascii: "t"): code = 0x3E
        case 3 where memcmp(p + start, "amp", 3) == 0: code = 0x26
        case 4 where memcmp(p + start, "apos", 4) == 0: code = 0x27
        case 4 where memcmp(p + start, "quot", 4) == 0: code = 0x22
        default: return unsupported
        }
        return j + 1
    }

    @inline(__always)
    static func encode(_ code: UInt32, _ out: inout (UInt8, UInt8, UInt8, UInt8)) -> Int {
        if code < 0x80 {
            out.0 = UInt8(code)
            return 1
        }
        if code < 0x800 {
            out.0 = UInt8(0xC0 | code >> 6)
            out.1 = UInt8(0x80 | code & 0x3F)
            return 2
        }
        if code < 0x10000 {
            out.0 = UInt8(0xE0 | code >> 12)
            out.1 = UInt8(0x80 | (code >> 6) & 0x3F)
            out.2 = UInt8(0x80 | code & 0x3F)
            return 3
        }
        out.0 = UInt8(0xF0 | code >> 18)
        out.1 = UInt8(0x80 | (code >> 12) & 0x3F)
        out.2 = UInt8(0x80 | (code >> 6) & 0x3F)
        out.3 = UInt8(0x80 | code & 0x3F)
        return 4
    }

    /// A namespace URI that libxml2's URI parser surely accepts as absolute: a scheme,
    /// then (after `//`) a host of letters, digits, `.` and `-` with an optional numeric
    /// port, then path, query and fragment characters, at most one `#`.
    static func isPlainURI(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        @inline(__always) func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        guard n > 0, n < 2048, isAlpha(p[0]) else { return false }
        var j = 1
        while j < n && (isAlpha(p[j]) || isDigit(p[j]) || p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-") || p[j] == UInt8(ascii: ".")) { j += 1 }
        guard j < n, p[j] == UInt8(ascii: ":") else { return false }
        j += 1
        if j + 1 < n && p[j] == UInt8(ascii: "/") && p[j + 1] == UInt8(ascii: "/") {
            j += 2
            while j < n && (isAlpha(p[j]) || isDigit(p[j]) || p[j] == UInt8(ascii: ".") || p[j] == UInt8(ascii: "-")) { j += 1 }
            if j < n && p[j] == UInt8(ascii: ":") {
                j += 1
                while j < n && isDigit(p[j]) { j += 1 }
            }
            guard j == n || p[j] == UInt8(ascii: "/") else { return false }
        }
        var hashes = 0
        while j < n {
            let c = p[j]
            if c == UInt8(ascii: "#") { hashes += 1 }
            let ok = isAlpha(c) || isDigit(c) || "-._~/:@!$'()*+,;=?#".utf8.contains(c)
            guard ok, hashes <= 1 else { return false }
            j += 1
        }
        return true
    }
}

extension XMLNameTable {
    mutating func intern(_ text: StaticString) -> UnsafePointer<UInt8> {
        intern(text.utf8Start, count: text.utf8CodeUnitCount)
    }
}

/// A growable array of plain values in memory it manages itself (no copy-on-write checks);
/// the owner frees it once with ``deallocate()``.
struct XMLFastBuffer<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var last: Element? { count > 0 ? base[count - 1] : nil }

    @inline(__always)
    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        (base + count).initialize(to: element)
        count += 1
    }

    @inline(__always)
    mutating func removeLast() { count -= 1 }
    @inline(__always)
    mutating func removeAll() { count = 0 }
    @inline(__always)
    mutating func truncate(to n: Int) { if n < count { count = n } }
}

/// libxml2's line numbers for the fast path: one more than the newlines before a decoded
/// offset, counted only as far as asked (a record's start tag) and over every byte once.
struct XMLLineCounter {
    /// Newlines before decoded offset `countedTo`.
    private(set) var lines = 0
    private var countedTo = 0

    // The carriage returns of CRLF line ends that the tokenizer did not see: the offsets
    // (as the tokenizer counts them) of the LFs they preceded, from `returnsCursor` on.
    private var droppedReturns: [Int] = []
    private var returnsCursor = 0
    private var returnsBeforeCursor = 0

    mutating func noteDroppedReturn(before offset: Int) { droppedReturns.append(offset) }

    /// Lets go of the dropped returns before the last offset asked for.
    mutating func forgetDroppedReturns() {
        guard returnsCursor > 0 else { return }
        droppedReturns.removeFirst(returnsCursor)
        returnsBeforeCursor += returnsCursor
        returnsCursor = 0
    }

    /// Calls `body` with the offset of each dropped return's LF in `from..<to` (not before
    /// the last offset asked for), in order.
    func forEachDroppedReturn(from: Int, to: Int, _ body: (Int) -> Void) {
        var low = returnsCursor, high = droppedReturns.count
        while low < high {
            let middle = (low + high) / 2
            if droppedReturns[middle] < from { low = middle + 1 } else { high = middle }
        }
        while low < droppedReturns.count && droppedReturns[low] < to {
            body(droppedReturns[low])
            low += 1
        }
    }

    /// The file's offset of `offset` as the tokenizer counts it (after dropped carriage
    /// returns); asked in increasing order.
    mutating func rawOffset(_ offset: Int) -> Int {
        if droppedReturns.isEmpty { return offset + returnsBeforeCursor }
        while returnsCursor < droppedReturns.count && droppedReturns[returnsCursor] <= offset { returnsCursor += 1 }
        return offset + returnsBeforeCursor + returnsCursor
    }

    /// The line at `base[i]`, where `base[0]` is at decoded offset `bufferStart`.
    @inline(__always)
    mutating func line(at i: Int, in base: UnsafePointer<UInt8>, bufferStart: Int) -> Int {
        count(to: i, in: base, bufferStart: bufferStart)
        return lines + 1
    }

    /// Counts the newlines up to `base[i]` (`countedTo` is never before `bufferStart`).
    mutating func count(to i: Int, in base: UnsafePointer<UInt8>, bufferStart: Int) {
        let j = countedTo - bufferStart
        guard j < i else { return }
        lines += XMLSegmentedFramer.newlines(in: base, from: j, to: i)
        countedTo = bufferStart + i
    }
}
