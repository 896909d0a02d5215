import Testing
@testable import SluiceCore

/// The cut scan's rules (``XMLMarkupGuard`` with `cutsOnly`, past the root's start tag),
/// one byte at a time and nothing else: the reference the fast scan (sixteen bytes a step,
/// tag after tag) must equal on every input, damaged or not, however the chunks fall.
private struct ReferenceCutScan {
    enum State { case text, lessThan, bang, startTag, quoted(UInt8), comment, cdata, instruction, done }
    var state = State.text
    var depth = 1
    var nextCut: Int
    let spacing: Int
    var cuts: [Int] = []
    var tagStart = 0
    var previous: (UInt8, UInt8) = (0, 0)  // the last two bytes, newest first

    init(spacing: Int) {
        self.spacing = spacing
        nextCut = spacing
    }

    /// Scans `bytes`, the first at decoded offset `base`.
    mutating func scan(_ bytes: ArraySlice<UInt8>, base: Int) {
        for (k, byte) in bytes.enumerated() {
            step(byte, at: base + k)
            previous = (byte, previous.0)
        }
    }

    private mutating func step(_ byte: UInt8, at position: Int) {
        switch state {
        case .done:
            return
        case .text:
            if byte == UInt8(ascii: "<") {
                tagStart = position
                state = .lessThan
            }
        case .lessThan:
            switch byte {
            case UInt8(ascii: "/"):
                depth -= 1
                state = depth <= 0 ? .done : .text
            case UInt8(ascii: "!"): state = .bang
            case UInt8(ascii: "?"): state = .instruction
            default:
                if depth == 1 && tagStart >= nextCut {
                    cuts.append(tagStart)
                    nextCut = tagStart + spacing
                }
                depth += 1
                state = .startTag
                step(byte, at: position)  // the byte after `<` is the tag's first
            }
        case .bang:
            state = byte == UInt8(ascii: "-") ? .comment : byte == UInt8(ascii: "[") ? .cdata : .done
        case .startTag:
            if byte == UInt8(ascii: ">") {
                if previous.0 == UInt8(ascii: "/") { depth -= 1 }
                state = .text
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                state = .quoted(byte)
            }
        case .quoted(let quote):
            if byte == quote { state = .startTag }
        case .comment:
            if byte == UInt8(ascii: ">") && previous == (UInt8(ascii: "-"), UInt8(ascii: "-")) { state = .text }
        case .cdata:
            if byte == UInt8(ascii: ">") && previous == (UInt8(ascii: "]"), UInt8(ascii: "]")) { state = .text }
        case .instruction:
            if byte == UInt8(ascii: ">") && previous.0 == UInt8(ascii: "?") { state = .text }
        }
    }
}

/// The reference's cuts for a whole document: the guard's own prolog handling up to the
/// root's start tag (unchanged code, run in one chunk), then the rules above.
private func referenceCuts(_ bytes: [UInt8], spacing: Int) -> (cuts: [Int], rootTagEnd: Int?) {
    var prolog = XMLMarkupGuard(maxAttributes: 1000, maxTokenBytes: 1 << 20, cutSpacing: spacing, cutsOnly: true)
    _ = bytes.withUnsafeBufferPointer { prolog.scan($0) }
    guard let rootEnd = prolog.rootTagEnd else { return ([], nil) }
    // `<r/>`: nothing below the root.
    if rootEnd >= 2 && bytes[rootEnd - 2] == UInt8(ascii: "/") { return ([], rootEnd) }
    var reference = ReferenceCutScan(spacing: spacing)
    reference.previous = (bytes[rootEnd - 1], bytes[rootEnd - 2])
    reference.scan(bytes[rootEnd...], base: rootEnd)
    return (reference.cuts, rootEnd)
}

/// The fast scan's cuts with the document cut into chunks ending at `ends`.
private func fastCuts(_ bytes: [UInt8], spacing: Int, ends: [Int]) -> (cuts: [Int], rootTagEnd: Int?, verdict: String?) {
    var scan = XMLMarkupGuard(maxAttributes: 1000, maxTokenBytes: 1 << 20, cutSpacing: spacing, cutsOnly: true)
    var cuts: [Int] = []
    var start = 0
    var verdict: String?
    for end in ends + [bytes.count] where end > start {
        if let v = bytes[start..<end].withUnsafeBufferPointer({ scan.scan($0) }) { verdict = v }
        cuts += scan.cuts
        scan.cuts.removeAll()
        start = end
    }
    return (cuts, scan.rootTagEnd, verdict)
}

private let prologs = [
    "<r>", "<?xml version=\"1.0\"?>\n<r a='<' b=\">\">", "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<r>\r\n",
    "<!DOCTYPE r [<!ENTITY e \"<o>\"><!-- <o> --><!ATTLIST o a CDATA '>'>]>\n<!-- <o/> --><?pi <o>?><r xmlns:p='urn:p'>",
]

/// Pieces of markup that make every state of the scan, well-formed and not.
private let pieces = [
    "<o a='>' b=\"/>\"><i/></o>", "<o><!-- <o> -- > --></o>", "<!-- <o/> -->", "<o><![CDATA[<o> ]] > ]]></o>",
    "<?pi <o> ? > ?>", "<o x='1'/>", "<o><o><o/></o></o>", "\n  ", "\r\n", "<o>t &amp; &#60;</o>", "<![CDATA[]]>", "<!---->",
    "<o\n  k = \"v\"\n/>", "<p:o xmlns:p='urn:p' p:a=\"'\"/>", "<o>></o>", "<o>a/>b</o>", "<o a=\"<\">x</o>", "<o a='\"'/>",
    String(repeating: "x", count: 40), "<o>" + String(repeating: "long text ", count: 12) + "</o>",
    "<order id=\"7\"><ts>2026-11-11</ts><items><item sku=\"S-1\" qty=\"3\"><price>8.63</price></item></items></order>",
    // damaged
    "<", ">", "\"", "'", "/", "!", "?", "-", "]", "<!", "<!-", "<![", "<?", "</", "/>", "-->", "]]>", "?>", "<>", "<\">", "</>",
    "<!DOCTYPE x>", "<o", "<o a='", "<!-- ", "<![CDATA[ ", "<? ", "</o", "\u{0}", "<o/", "<o></o></o>",
]

extension InputsTests {
    @Suite struct XMLCutScanTests {
        @Test func theFastCutScanEqualsTheByteByByteRulesOnDamagedDocumentsAtEveryChunkBoundary() {
            var random = SplitMix64(seed: 7)
            func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
            var documents: [[UInt8]] = []
            for round in 0..<400 {
                var xml = prologs[below(prologs.count)]
                let prologBytes = xml.utf8.count
                for _ in 0..<(1 + below(round < 200 ? 12 : 60)) { xml += pieces[below(pieces.count)] }
                if below(3) > 0 { xml += "</r>" + ["", "\n", "<!-- <o> -->", "<?pi?>", "<o/>"][below(5)] }
                var bytes = Array(xml.utf8)
                // Damage: a few bytes replaced by markup bytes, anywhere past the root's start tag.
                for _ in 0..<below(4) where bytes.count > prologBytes {
                    bytes[prologBytes + below(bytes.count - prologBytes)] = Array("<>/'\"!?-]x\n".utf8)[below(11)]
                }
                documents.append(bytes)
            }
            documents.append(Array("<r/>".utf8))
            documents.append(Array("<r/><o/>".utf8))
            var checked = 0
            for (d, bytes) in documents.enumerated() {
                let spacing = 1 + (d % 7 == 0 ? 1000 : below(60))
                let expected = referenceCuts(bytes, spacing: spacing)
                // One chunk, two chunks cut at every position (every state meets a boundary),
                // and chunks of random sizes from 1 to 100 bytes.
                var chunkings: [[Int]] = [[]]
                if bytes.count <= 300 || d % 10 == 0 { chunkings += (1..<bytes.count).map { [$0] } }
                for _ in 0..<4 {
                    var ends: [Int] = []
                    var at = 0
                    while at < bytes.count {
                        at = min(bytes.count, at + 1 + below(100))
                        ends.append(at)
                    }
                    chunkings.append(ends)
                }
                for ends in chunkings {
                    let fast = fastCuts(bytes, spacing: spacing, ends: ends)
                    checked += 1
                    #expect(fast.verdict == nil)
                    #expect(fast.rootTagEnd == expected.rootTagEnd)
                    guard fast.cuts == expected.cuts else {
                        Issue.record("cuts \(fast.cuts) vs \(expected.cuts), spacing \(spacing), chunks ending \(ends.prefix(8)): \(String(decoding: bytes, as: UTF8.self))")
                        return
                    }
                }
            }
            #expect(checked > 20_000)
        }

        @Test func aLongDocumentCutsTheSameInOneChunkAsInReadChunks() {
            // Many records: the sixteen-byte steps and the chunk-end steps both run long.
            var xml = "<?xml version=\"1.0\"?>\n<orders>\n"
            var random = SplitMix64(seed: 3)
            for i in 0..<3000 {
                xml += "  <order id=\"\(i)\">" + pieces[Int(random.next() % 21)] + "<note a='x>y'>\(String(repeating: "t", count: i % 37))</note></order>\n"
            }
            xml += "</orders>\n"
            let bytes = Array(xml.utf8)
            for spacing in [1, 100, 4096] {
                let expected = referenceCuts(bytes, spacing: spacing)
                #expect(expected.cuts.count > (spacing == 1 ? 2999 : 10))
                for chunk in [1 << 20, 65_536, 4096, 17] {
                    let ends = Array(stride(from: chunk, to: bytes.count, by: chunk))
                    #expect(fastCuts(bytes, spacing: spacing, ends: ends).cuts == expected.cuts, "spacing \(spacing), chunk \(chunk)")
                }
            }
        }
    }
}
