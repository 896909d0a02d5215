import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Reads `bytes` as one XML file; `jsonMaxDepth` set makes the framer lay out each
/// record's tape as it writes the record (``XMLOptions/jsonMaxDepth``).
/// `gzip`: written gzipped (`bytes` are compressed here unless they start with gzip's magic).
private func readTaped(_ bytes: [UInt8], _ options: XMLOptions, jsonMaxDepth: Int?, split: XMLSplit = .off, segmentBytes: Int = 1 << 20,
                       gzip: Bool = false, batchSize: Int = 3, chunkSize: Int = 256 << 10) throws -> (FileReadOutcome, [Batch]) {
    let dir = try TempDir()
    var data = bytes
    if gzip && !bytes.starts(with: [0x1F, 0x8B]) {
        bytes.withUnsafeBytes { raw in var out: [UInt8] = []; GzipMember.compress(raw, level: 6, appendingTo: &out); data = out }
    }
    let file = try dir.write(gzip ? "doc.xml.gz" : "doc.xml", data)
    var xml = options
    xml.jsonMaxDepth = jsonMaxDepth
    xml.split = split
    xml.segmentBytes = segmentBytes
    return readAll(file, ReadOptions(format: .xml, batchSize: batchSize, chunkSize: chunkSize, xml: xml))
}

/// `batch` with its tape thrown away and every record indexed again by ``JSONIndexer``,
/// as the first stage does with a batch that comes unindexed.
private func reindexed(_ batch: Batch, maxDepth: Int) -> Batch {
    var plain = batch
    plain.tape = []
    for i in plain.records.indices {
        plain.records[i].tapeStart = -1
        plain.records[i].tapeEnd = -1
    }
    for i in plain.records.indices { try? plain.indexRecord(at: i, maxDepth: maxDepth) }
    return plain
}

/// Reads `bytes` with and without the framer's tape and expects: the same bytes, slots
/// (but for the tape fields), errors and outcome; every tape equal node for node to the
/// indexer's over the same batch. Returns how many records came indexed.
@discardableResult
private func expectSameTape(_ bytes: [UInt8], _ options: XMLOptions, jsonMaxDepth: Int = 512, split: XMLSplit = .off, segmentBytes: Int = 1 << 20,
                            gzip: Bool = false, batchSize: Int = 3, chunkSize: Int = 256 << 10,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let (tapedOutcome, taped) = try readTaped(bytes, options, jsonMaxDepth: jsonMaxDepth, split: split, segmentBytes: segmentBytes,
                                              gzip: gzip, batchSize: batchSize, chunkSize: chunkSize)
    let (plainOutcome, plain) = try readTaped(bytes, options, jsonMaxDepth: nil, split: split, segmentBytes: segmentBytes,
                                              gzip: gzip, batchSize: batchSize, chunkSize: chunkSize)
    #expect(tapedOutcome == plainOutcome, sourceLocation: sourceLocation)
    #expect(taped.count == plain.count, sourceLocation: sourceLocation)
    #expect(plain.allSatisfy { $0.tape.isEmpty && $0.records.allSatisfy { $0.tapeStart < 0 } }, sourceLocation: sourceLocation)
    var indexed = 0
    for (a, b) in zip(taped, plain) {
        #expect(a.bytes == b.bytes && a.errors == b.errors && a.index == b.index, sourceLocation: sourceLocation)
        #expect(a.records.map { [$0.start, $0.end, $0.line, $0.offset] } == b.records.map { [$0.start, $0.end, $0.line, $0.offset] },
                sourceLocation: sourceLocation)
        let reference = reindexed(b, maxDepth: jsonMaxDepth)
        // Records the framer left unindexed are indexed (or failed) by the first stage: the
        // reference indexes exactly those, after the framer's nodes.
        var completed = a
        for i in completed.records.indices where completed.records[i].tapeStart < 0 {
            try? completed.indexRecord(at: i, maxDepth: jsonMaxDepth)
        }
        indexed += a.records.count { $0.tapeStart >= 0 }
        if a.records.allSatisfy({ $0.tapeStart >= 0 }) {
            #expect(a.tape == reference.tape, "batch \(a.index): \(firstDifference(a.tape, reference.tape))", sourceLocation: sourceLocation)
            #expect(a.records == reference.records, sourceLocation: sourceLocation)
        } else {
            // Compare record by record: the framer's records sit first on the tape.
            for (x, y) in zip(completed.records, reference.records) {
                #expect((x.tapeStart >= 0) == (y.tapeStart >= 0), sourceLocation: sourceLocation)
                guard x.tapeStart >= 0, y.tapeStart >= 0 else { continue }
                let mine = completed.tape[Int(x.tapeStart)..<Int(x.tapeEnd)].map { rebased($0, by: Int(y.tapeStart) - Int(x.tapeStart)) }
                #expect(mine == Array(reference.tape[Int(y.tapeStart)..<Int(y.tapeEnd)]), sourceLocation: sourceLocation)
            }
        }
    }
    return indexed
}

private func rebased(_ entry: TapeEntry, by shift: Int) -> TapeEntry {
    var e = entry
    e.next = UInt32(Int(e.next) + shift)
    return e
}

private func firstDifference(_ a: [TapeEntry], _ b: [TapeEntry]) -> String {
    if let k = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) { return "node \(k): \(a[k]) vs \(b[k])" }
    return "counts \(a.count) vs \(b.count)"
}

/// Random records: attributes, repeated and single children, mixed content, CDATA,
/// escapes (quotes, backslashes, control characters by reference), non-ASCII text,
/// namespaces, empty elements, whitespace-only text.
private func randomDocument(seed: UInt64, records: Int) -> String {
    var mix = SplitMix64(seed: seed)
    let names = ["a", "b", "item", "m:x", "n:item", "price", "long_element_name_over_sixteen", "é"]
    let texts = ["", " ", "\n  ", "plain", "12.50", "a &amp; b", "&lt;tag&gt;", "say \"hi\"", "back\\slash", "tab&#9;nl&#10;cr&#13;",
                 "&#x7F;&#x85;", "café", "☺ &#x263A;", "𝄞 clef", "<![CDATA[raw <b> & \"q\" \\ ]]>", "x<!-- c -->y", "long text that goes past eight bytes"]
    func element(_ depth: Int) -> String {
        let name = mix.pick(names)
        var s = "<\(name)"
        for k in 0..<mix.int(0..<(depth == 0 ? 4 : 3)) {
            s += " \(mix.pick(["id", "k", "q:id", "w"]))\(k)=\"\(mix.pick(["1", "x &amp; y", "&quot;q&quot;", "\\", "é", "", "&#9;"]))\""
        }
        let children = depth > 4 ? 0 : mix.int(0..<5)
        if children == 0 && mix.int(0..<3) == 0 { return s + "/>" }
        s += ">"
        for _ in 0..<children {
            if mix.int(0..<3) == 0 { s += mix.pick(texts) }
            s += element(depth + 1)
        }
        if mix.int(0..<2) == 0 { s += mix.pick(texts) }
        return s + "</\(name)>"
    }
    var doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root xmlns:m=\"urn:m\" xmlns:n=\"urn:n\" xmlns:q=\"urn:q\">\n"
    for _ in 0..<records { doc += "  " + element(0) + "\n" }
    return doc + "</root>\n"
}

extension InputsTests {
    /// Records reach the batch already indexed (issue 10): the framer's tape must be the
    /// JSON indexer's, node for node, for every record it indexes.
    @Suite struct XMLTapeTests {
        @Test func randomRecordsGetTheIndexersTape() throws {
            let options = [
                XMLOptions(records: [XMLRecordPath("/*/*")!], arrays: ["item"]),
                XMLOptions(records: [XMLRecordPath("/root/*")!], attributePrefix: "\\@", textKey: "#t\"x", nameKey: "k\\ind"),
                XMLOptions(records: [XMLRecordPath("/*/*")!], stripsNamespaces: true),
            ]
            var indexed = 0
            for seed in 1...12 {
                let doc = Array(randomDocument(seed: UInt64(seed), records: 60).utf8)
                for o in options {
                    indexed += try expectSameTape(doc, o, batchSize: 1 + seed % 7)
                }
            }
            #expect(indexed == 12 * 60 * options.count)  // every record came indexed
        }

        @Test func splitReadsLeaveSegmentRecordsToTheFirstStage() throws {
            // Records parsed in segments come without a tape (their tapes in flight cost
            // more memory than the indexing they save); what one parser reads after a
            // split gave up — the streaming rest of a file without cuts — comes indexed.
            let doc = Array(randomDocument(seed: 99, records: 300).utf8)
            let options = XMLOptions(records: [XMLRecordPath("/*/*")!], arrays: ["item"])
            for size in [97, 1000, 8000] {
                for gzip in [false, true] {
                    let indexed = try expectSameTape(doc, options, split: .always, segmentBytes: size, gzip: gzip, batchSize: 50, chunkSize: 4096)
                    #expect(indexed == 0)
                }
            }
            // One huge element below the root: no cut within reach, one parser streams it.
            let huge = "<r><big>" + String(repeating: "<e i=\"1\">x</e>", count: 100_000) + "</big><small a=\"b\"/></r>"
            let indexed = try expectSameTape(Array(huge.utf8), XMLOptions(records: [XMLRecordPath("/r/*")!]), split: .always, segmentBytes: 1000,
                                             batchSize: 50, chunkSize: 4096)
            #expect(indexed == 2)
        }

        @Test func recordsDeeperThanTheLimitAreLeftToTheIndexer() throws {
            // {"b":{"c":{"d":"x"}}} nests 3 objects; with arrays, 5 containers.
            let doc = Array("<r><a><b><c><d>x</d></c></b></a><a><b>y</b></a><a><i/><i/></a><a><i><j>z</j></i><i/></a></r>".utf8)
            let options = XMLOptions(records: [XMLRecordPath("/r/a")!])
            for limit in 1...6 {
                try expectSameTape(doc, options, jsonMaxDepth: limit, batchSize: 2)
            }
            let (_, batches) = try readTaped(doc, options, jsonMaxDepth: 2, batchSize: 10)
            #expect(batches[0].records.map { $0.tapeStart >= 0 } == [false, true, true, false])
            // ... and the first stage then fails them as it always did.
            var batch = batches[0]
            #expect(throws: JSONSyntaxError.self) { try batch.indexRecord(at: 0, maxDepth: 2) }
        }

        @Test func escapedCopyMatchesTheWriterAndTheIndexer() throws {
            var mix = SplitMix64(seed: 7)
            let pieces: [[UInt8]] = [Array("plain ascii".utf8), [0x22], [0x5C], [0x0A], [0x01], [0x1F], [0x7F], Array("é".utf8), Array("𝄞".utf8),
                                     [0xC3], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x80, 0xAF], [0xFF], Array("12345678".utf8)]
            for _ in 0..<3000 {
                var input: [UInt8] = []
                for _ in 0..<mix.int(0..<9) { input += mix.pick(pieces) }
                // The text as the record tree holds it: in an XMLScratch (with its slack).
                var source = XMLScratch<UInt8>(capacity: 1)
                var checked = XMLScratch<UInt8>()
                var plain = XMLScratch<UInt8>()
                defer { source.deallocate(); checked.deallocate(); plain.deallocate() }
                input.withUnsafeBufferPointer { source.append($0) }
                plain.appendJSONEscaped(source.base, count: source.count)
                let outcome = checked.appendJSONEscapedChecked(source.base, count: source.count)
                let out = Array(checked.bytes)
                #expect(out == Array(plain.bytes))
                var tape: [TapeEntry] = []
                let quoted = [0x22] + out + [0x22]
                let parsed = quoted.withUnsafeBufferPointer { try? JSONIndexer.index($0, start: 0, end: $0.count, into: &tape) }
                if parsed == nil {
                    #expect(outcome & XMLScratch<UInt8>.malformedUTF8 != 0, "\(input)")
                } else {
                    #expect(outcome & XMLScratch<UInt8>.malformedUTF8 == 0, "\(input)")
                    #expect(tape[0].flags == outcome & TapeEntry.hasEscapes, "\(input)")
                }
            }
        }

        @Test(.enabled(if: TestSupport.runsConformance(TestSupport.conformance.appendingPathComponent("xml")), TestSupport.conformanceNote))
        func conformanceFilesGetTheIndexersTape() throws {
            var checked = 0
            for root in [XMLConformanceTests.xmlRoot, XMLConformanceTests.realRoot] {
                guard let walker = FileManager.default.enumerator(atPath: root.path) else { continue }
                for case let path as String in walker {
                    let name = (path as NSString).lastPathComponent
                    // The XML documents: .xml, .nxml, .xml.gz, and libxml2's test inputs without a suffix.
                    let isTestInput = path.hasPrefix("libxml2/test/") && !name.contains(".")
                    guard path.hasSuffix(".xml") || path.hasSuffix(".nxml") || path.hasSuffix(".xml.gz") || isTestInput else { continue }
                    let url = root.appendingPathComponent(path)
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                    let bytes = try [UInt8](Data(contentsOf: url))
                    for options in [XMLOptions(records: [XMLRecordPath("/*")!]), XMLOptions(records: [XMLRecordPath("/*/*")!])] {
                        try expectSameTape(bytes, options, gzip: path.hasSuffix(".gz"), batchSize: 64)
                    }
                    checked += 1
                }
            }
            #expect(checked > 50 || !XMLConformanceTests.isPresent)
        }
    }
}
