import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO

/// ``XMLFastTokenizer`` against libxml2: on every conformance file and on thousands of
/// random documents, well-formed and broken, the fast path (chunks cut anywhere, falling
/// back to libxml2 where it must) gives exactly what the libxml2 path gives: records, their
/// lines, offsets and tapes, batches, `limit` errors and the file's fault.
private struct FramerRead: Equatable {
    var records: [String]
    var slots: [RecordSlot]
    var tapes: [[TapeEntry]]
    var shapes: [[Int]]
    var errors: [RecordError]
    var fault: String?
}

/// Frames `bytes` (the decoded content of `path`) with one ``XMLFramer`` as FileReader
/// does. `fast`: the fast path, re-reading `path` on a fallback; `chunks`: the sizes fed.
private func frame(_ bytes: [UInt8], path: String, fast: Bool, chunks: [Int]?, readChunk: Int, options: XMLOptions,
                   maxRecordBytes: Int) -> (FramerRead, reread: Bool) {
    let read = ReadOptions(format: .xml, batchSize: 3, maxRecordBytes: maxRecordBytes, chunkSize: readChunk, xml: options)
    let assembler = BatchAssembler(fileIndex: 0, file: "doc.xml", options: read)
    let framer = XMLFramer(assembler: assembler, options: options, maxRecordBytes: maxRecordBytes, fast: fast,
                           source: fast ? .init(path: path, chunkSize: readChunk, codecs: CodecOptions()) : nil)
    var batches: [Batch] = []
    var fault: String?
    do throws(InputFault) {
        if chunks == nil {
            // As FileReader reads it: the decoded chunks of the file.
            let input = try DecodedInput(path: path, chunkSize: readChunk, codecs: CodecOptions(), isXML: true)
            while let chunk = try input.next() { try framer.consume(chunk) { batches.append($0) } }
        } else if let chunks { try bytes.withUnsafeBufferPointer { (all) throws(InputFault) in
            var at = 0
            var c = 0
            while at < all.count {
                let n = min(max(1, chunks[c % chunks.count]), all.count - at)
                c += 1
                try framer.consume(UnsafeBufferPointer(rebasing: all[at..<(at + n)])) { batches.append($0) }
                at += n
            }
        } }
        try framer.finish { batches.append($0) }
    } catch {
        fault = "\(error)"
        try? framer.flushFramed { batches.append($0) }
    }
    let tapes = batches.map { batch in batch.records.map { r in r.tapeEnd > r.tapeStart ? Array(batch.tape[Int(r.tapeStart)..<Int(r.tapeEnd)]) : [] } }
    return (FramerRead(records: texts(batches), slots: slots(batches), tapes: tapes.flatMap { $0 },
                       shapes: batches.map { [$0.index, $0.records.count, $0.errors.count] },
                       errors: batches.flatMap(\.errors), fault: fault), framer.didReread)
}

/// The test target's SplitMix64 (same sequence for a seed) with the helpers these tests use.
private struct Generator {
    private var random: SplitMix64
    init(state: UInt64) { random = SplitMix64(seed: state) }
    mutating func next() -> UInt64 { random.next() }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
}

private let elementNames = ["a", "b", "item", "order", "p:x", "q:x", "c.d", "e-f", "_g", "p:order", "price", "n1:y"]
private let attributeNames = ["id", "x", "p:id", "q:id", "xml:lang", "k", "n1:id", "sku"]
private let textPieces = ["hello", " ", "\n  ", "a &amp; b", "&lt;tag&gt;", "&#65;&#x42;", "&#10;", "é", "李雷", "😀", "x > y", "]]", "] ]>",
                     "\t", "&quot;&apos;", "&#38;", "&#x1F600;", "8.63", "&#xE9;", "plain text that runs on for a while, longer than a word"]
private let values = ["1", "", "a b", "line\nbreak", "tab\there", "&amp;", "&#38;#38;", "&lt;", "&#10;", "é", "'", ">", "a&amp;amp;b",
                      "&#x20;&#9;", "SKU-163250", "&quot;"]
private let damage: [[UInt8]] = ["<", ">", "&", "]]>", "\0", "\r", "\u{1}", "--", "\"", "'", "&bogus;", "&#0;", "&#xD800;", "<!DOCTYPE r>",
                                  "</a>", "<a>", " x=\"1\"", "\u{FEFF}", "<![CDATA[", "<?xml version=\"1.0\"?>", "<?pi x?>", "<r:z/>",
                                  " xmlns:p=\"\"", " xmlns:q=\"http://p.example/ns\"", "&#1114112;", "\r\n"].map { Array($0.utf8) }
    + [[0xFF], [0xC3], [0xEF, 0xBF, 0xBE], [0xED, 0xA0, 0x80], [0xC0, 0xAF]]

private func element(_ g: inout Generator, depth: Int, into out: inout String) {
    let name = g.pick(elementNames)
    out += "<" + name
    var used: Set<String> = []
    for _ in 0..<g.int(4) {
        let attribute = g.pick(attributeNames)
        if used.contains(attribute) && !g.chance(0.05) { continue }
        used.insert(attribute)
        let value = g.pick(values)
        let quote = value.contains("'") ? "\"" : (value.contains("\"") ? "'" : g.pick(["\"", "'"]))
        out += g.pick([" ", "\n  ", "\t"]) + attribute + g.pick(["=", " = "]) + quote + value + quote
    }
    if g.chance(0.1) { out += " xmlns:n1=\"urn:n1\"" }
    if g.chance(0.2) {
        out += g.pick(["/>", " />"])
        return
    }
    out += g.pick([">", " >", "\n>"])
    for _ in 0..<g.int(5) {
        switch g.int(8) {
        case 0, 1, 2: out += g.pick(textPieces)
        case 3, 4: if depth < 5 { element(&g, depth: depth + 1, into: &out) }
        case 5: out += "<![CDATA[" + g.pick(["", "<not a tag> & ", "]]", "x]y", "李"]) + "]]>"
        case 6: out += "<!--" + g.pick(["", " c ", "-x", "<a>"]) + "-->"
        default: out += "<?" + g.pick(["pi", "xml-stylesheet", "t"]) + g.pick(["", " data", " ?x"]) + "?>"
        }
    }
    out += "</" + name + g.pick([">", " >"])
}

private func document(_ g: inout Generator) -> [UInt8] {
    var out = g.pick(["", "", "<?xml version=\"1.0\"?>\n", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                      "<?xml version='1.0' encoding='utf-8' standalone='yes'?>", "<?xml version=\"1.1\"?>",
                      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", "<?xml version=\"1.0\"  ?>\n"])
    if g.chance(0.3) { out += g.pick(["<!-- head -->\n", "<?pi x?>", "\n\n", " "]) }
    out += "<root"
    if g.chance(0.95) { out += " xmlns:p=\"http://p.example/ns\"" }
    if g.chance(0.9) { out += g.chance(0.9) ? " xmlns:q=\"http://q.example/ns\"" : " xmlns:q=\"http://p.example/ns\"" }
    if g.chance(0.9) { out += " xmlns:n1=\"urn:n1\"" }
    if g.chance(0.3) { out += " xmlns=\"urn:default\"" }
    if g.chance(0.2) { out += " a=\"1\"" }
    out += ">\n"
    for _ in 0..<g.int(9) {
        element(&g, depth: 1, into: &out)
        out += g.pick(["\n", "", "\n  "])
    }
    out += "</root>"
    if g.chance(0.3) { out += g.pick(["\n", "<!-- tail -->", "<?end?>\n", " \n"]) }
    var bytes = Array(out.utf8)
    if g.chance(0.3) {
        for _ in 0..<(1 + g.int(2)) {
            let at = g.int(bytes.count + 1)
            switch g.int(4) {
            case 0, 1: bytes.insert(contentsOf: g.pick(damage), at: at)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + g.int(3)))
            default: bytes.removeSubrange(at...)
            }
        }
    }
    return bytes
}

/// `bytes` with CRLF line ends (a CR before each LF that has none).
private func withCRLF(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    for (k, byte) in bytes.enumerated() {
        if byte == 0x0A && (k == 0 || bytes[k - 1] != 0x0D) { out.append(0x0D) }
        out.append(byte)
    }
    return out
}

private func options(_ g: inout Generator) -> (XMLOptions, Int) {
    var options = XMLOptions(records: g.pick([[XMLRecordPath("/*/*")!], [XMLRecordPath("item")!],
                                              [XMLRecordPath("/root/*")!, XMLRecordPath("p:order")!], [XMLRecordPath("/root/order")!]]),
                             arrays: g.chance(0.5) ? ["item", "p:x"] : [], stripsNamespaces: g.chance(0.3),
                             maxDepth: g.chance(0.1) ? 3 : 256, maxAttributes: g.chance(0.1) ? 2 : 256,
                             maxTokenBytes: g.chance(0.1) ? 80 : 1 << 20)
    if g.chance(0.7) { options.jsonMaxDepth = g.chance(0.9) ? 64 : 2 }
    return (options, g.chance(0.15) ? 60 : 1 << 20)
}

extension InputsTests {
    @Suite struct XMLFastPathTests {
        private static func compare(_ bytes: [UInt8], file: String, options: XMLOptions, maxRecordBytes: Int, g: inout Generator,
                                    label: String) -> Bool {
            let readChunk = g.pick([7, 64, 4096, 256 << 10])
            let reference = frame(bytes, path: file, fast: false, chunks: nil, readChunk: readChunk, options: options,
                                  maxRecordBytes: maxRecordBytes).0
            let (fast, reread) = frame(bytes, path: file, fast: true, chunks: nil, readChunk: readChunk, options: options,
                                       maxRecordBytes: maxRecordBytes)
            #expect(fast == reference, "\(label): \(String(decoding: bytes.prefix(400), as: UTF8.self))\nfast \(fast)\nlibxml2 \(reference)")
            // Chunks cut anywhere: the tokenizer carries what is unfinished. (A fallback
            // re-reads in the file's own chunks, so only a read that stayed fast must match.)
            let chunks = (0..<16).map { _ in g.chance(0.3) ? 1 + g.int(3) : 1 + g.int(max(2, bytes.count / 3)) }
            let (cut, cutReread) = frame(bytes, path: file, fast: true, chunks: chunks, readChunk: readChunk, options: options,
                                         maxRecordBytes: maxRecordBytes)
            if !cutReread || reference.fault == nil {
                #expect(cut == reference, "\(label), chunks \(chunks): \(String(decoding: bytes.prefix(400), as: UTF8.self))\nfast \(cut)\nlibxml2 \(reference)")
            }
            return !reread
        }

        @Test func randomDocumentsFrameExactlyAsLibxml2FramesThem() throws {
            let dir = try TempDir()
            var g = Generator(state: 20_261_201)
            var fast = 0
            var wellFormedFast = 0
            let count = 3000
            for n in 0..<count {
                let bytes = document(&g)
                let file = try dir.write("doc-\(n % 7).xml", bytes)
                let (options, maxRecordBytes) = options(&g)
                let tookFastPath = Self.compare(bytes, file: file.path, options: options, maxRecordBytes: maxRecordBytes, g: &g,
                                                label: "document \(n)")
                if tookFastPath { fast += 1 }
                if tookFastPath && !bytes.isEmpty { wellFormedFast += 1 }
            }
            // The fast path really runs (most undamaged documents stay in its subset).
            #expect(fast > count / 4, "only \(fast) of \(count) documents took the fast path")
            #expect(wellFormedFast > 0)
        }

        @Test func everyConformanceFileFramesExactlyAsLibxml2FramesIt() throws {
            guard XMLConformanceTests.isPresent else { return }
            var g = Generator(state: 7)
            var paths: [(URL, String)] = XMLConformanceTests.files.map { (XMLConformanceTests.xmlRoot, $0) }
            for real in ["dblp/dblp.xml", "pubmed/pubmed-29768149.xml", "pubmed/pone.0046493.nxml", "pubmed/test_current_medline.xml.gz",
                         "osm/planet_10.068,48.135_10.071,48.137.osm"] {
                paths.append((XMLConformanceTests.realRoot, real))
            }
            var fastFiles = 0
            for (root, path) in paths {
                let url = root.appendingPathComponent(path)
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                let input = try DecodedInput(path: url.path, chunkSize: 1 << 20, codecs: CodecOptions(), isXML: true)
                var bytes: [UInt8] = []
                while let chunk = try input.next() { bytes.append(contentsOf: chunk) }
                for records in [[XMLRecordPath("/*")!], [XMLRecordPath("/*/*")!]] {
                    var options = XMLOptions(records: records)
                    options.jsonMaxDepth = 64
                    if Self.compare(bytes, file: url.path, options: options, maxRecordBytes: 16 << 20, g: &g, label: path) { fastFiles += 1 }
                }
            }
            #expect(fastFiles >= 10, "only \(fastFiles) conformance reads took the fast path")
        }

        @Test func segmentsParsedFastEqualSegmentsParsedByLibxml2() throws {
            var g = Generator(state: 99)
            var fastSegments = 0
            for n in 0..<800 {
                // Every other document with CRLF line ends.
                let bytes = n % 2 == 0 ? document(&g) : withCRLF(document(&g))
                let (options, maxRecordBytes) = options(&g)
                var scanner = XMLMarkupGuard(maxAttributes: 256, maxTokenBytes: 1 << 20, cutSpacing: 1 + g.int(60))
                guard bytes.withUnsafeBufferPointer({ scanner.scan($0) }) == nil, let rootEnd = scanner.rootTagEnd else { continue }
                let prologue = Array(bytes[0..<rootEnd])
                let cuts = [0] + scanner.cuts + [bytes.count]
                for k in 0..<(cuts.count - 1) {
                    let job = SegmentJob(index: k, prologue: k == 0 ? nil : prologue, bytes: Array(bytes[cuts[k]..<cuts[k + 1]]),
                                         epilogue: k == cuts.count - 2 ? nil : Array("</root>".utf8), lineShift: 5, offsetShift: 100)
                    let slow = XMLSegmentedFramer.parse(job, options: options, maxRecordBytes: maxRecordBytes, file: "f", fileIndex: 0, fast: false)!
                    guard let fast = XMLSegmentedFramer.parse(job, options: options, maxRecordBytes: maxRecordBytes, file: "f", fileIndex: 0, fast: true) else { continue }
                    fastSegments += 1
                    #expect(slow.fault == nil, "the fast path accepted what libxml2 rejects: \(String(describing: slow.fault))")
                    #expect(texts([fast.batch]) == texts([slow.batch]) && slots([fast.batch]) == slots([slow.batch]))
                    #expect(fast.rejects.map(\.line) == slow.rejects.map(\.line) && fast.rejects.map(\.offset) == slow.rejects.map(\.offset)
                            && fast.rejects.map(\.position) == slow.rejects.map(\.position))
                }
            }
            #expect(fastSegments > 100)
        }

        /// CRLF line ends and a UTF-8 byte order mark keep a document on the fast path, with
        /// libxml2's records, lines and offsets (the offsets count the dropped CRs).
        @Test func crlfLineEndsAndAByteOrderMarkStayOnTheFastPath() throws {
            let dir = try TempDir()
            var g = Generator(state: 20_261_202)
            var fastVariants = 0
            for n in 0..<500 {
                let lf = document(&g)
                let (options, maxRecordBytes) = options(&g)
                let lfFast = Self.compare(lf, file: try dir.write("lf-\(n % 5).xml", lf).path, options: options,
                                          maxRecordBytes: maxRecordBytes, g: &g, label: "document \(n)")
                let crlf = withCRLF(lf)
                let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
                for (v, bytes) in [crlf, mark + lf, mark + crlf].enumerated() {
                    let fast = Self.compare(bytes, file: try dir.write("v\(v)-\(n % 5).xml", bytes).path, options: options,
                                            maxRecordBytes: maxRecordBytes, g: &g, label: "document \(n), variant \(v)")
                    // What the fast path takes with LF line ends it takes with CRLF and a BOM too
                    // (bar a lone CR the damage put in, which becomes a CRLF or stays alone).
                    // A small max_token_bytes is halved for CRLF (the guard counts the CRs).
                    #expect(fast || !lfFast || lf.contains(0x0D) || (v != 1 && options.maxTokenBytes <= 80),
                            "document \(n), variant \(v) left the fast path: \(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription)")
                    if fast && bytes != lf { fastVariants += 1 }
                }
            }
            #expect(fastVariants > 300, "only \(fastVariants) CRLF / BOM variants took the fast path")
        }

        @Test func handWrittenEdgesFrameAsLibxml2() throws {
            let dir = try TempDir()
            var g = Generator(state: 3)
            let documents = [
                "<r><a x='1' y=\"2\">t&amp;t<![CDATA[c]]>&#x41;</a><a/></r>",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?><r/>",
                "<r xmlns:p='http://a.example/' xmlns:q='http://a.example/'><a p:x='1' q:x='2'/></r>",  // duplicate by namespace
                "<r><a x='1' x='2'/></r>", "<r><a></b></r>", "<r>]]></r>", "<r><!-- a -- b --></r>", "<r>&#0;</r>", "<r/><r/>",
                "<r/>text", "<r>\u{1}</r>", "<r x='<'/>", "<r><p:a/></r>", "<!DOCTYPE r><r/>", "\u{FEFF}<r/>", "<r>\r\n</r>",
                "<r><a xmlns:p='' /></r>", "<r><a xmlns='http://www.w3.org/XML/1998/namespace'/></r>", "<r><a xml:lang='en'/></r>",
                "<r xmlns:p='urn:p'><p:a p:b='1'>x</p:a></r>", "<r><a b='&#38;&amp;&lt;&#9;\t\n'/></r>", "<r>&undeclared;</r>",
                "  <r/>  ", "<r/><!-- c --><?pi?>", "<?xml version='1.0'?>", "", "<r>", "<r></r", "<r a='1'b='2'/>",
                "<r><a>" + String(repeating: "x", count: 70_000) + "</a></r>",
                "<r>" + String(repeating: "<a>", count: 300) + String(repeating: "</a>", count: 300) + "</r>",
                // Whitespace-only text before a tag: dropped early unless it continues a run.
                "<r>\n <a>\n  <b>1</b>\n  <c> </c>\n </a>\n <a>x<!-- c -->  <b/>  </a><a>&amp;  <b/></a></r>",
                "<r><a>  <![CDATA[ ]]>  <b/>y  </a><a>  <![CDATA[z]]>  <b/></a><a>\t\n <b/> <c/> </a></r>",
                "<r><a>" + String(repeating: " ", count: 60) + "<b/>" + String(repeating: "\n", count: 30) + "</a><a><b/></a></r>",
                // CRLF line ends and a byte order mark (the fast path's); a lone CR (libxml2's).
                "<?xml version=\"1.0\"?>\r\n<r>\r\n <a\r\n x='1\r\n2'\r\n>t\r\nu<![CDATA[c\r\nd]]>\r\n</a>\r\n <a>\r\n</a><!--\r\n--><?p\r\n?></r>\r\n",
                "\u{FEFF}<?xml version='1.0' encoding='utf-8'?>\r\n<r>\r\n<a>1</a>\r\n<a b='&#13;'>\r\n</a></r>",
                "\u{FEFF}<r><a/></r>", "\u{FEFF}\u{FEFF}<r/>", "\u{FEFF} <?xml version='1.0'?><r/>", "\u{FEFF}",
                "<r>\r</r>", "<r><a>x\ry</a></r>", "<r><a x='\r'/></r>", "<r/>\r", "<r/>\r\n", "<r>\r\r\n</r>",
            ]
            for (n, text) in documents.enumerated() {
                let bytes = Array(text.utf8)
                let file = try dir.write("edge-\(n).xml", bytes)
                for maxRecordBytes in [1 << 20, 50] {
                    var options = XMLOptions(records: [XMLRecordPath("/*/*")!])
                    options.jsonMaxDepth = 64
                    _ = Self.compare(bytes, file: file.path, options: options, maxRecordBytes: maxRecordBytes, g: &g, label: text)
                }
            }
        }
    }
}
