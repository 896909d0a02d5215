import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO

/// What a read produced, in every detail that reaches output or the error report.
private struct Read: Equatable {
    var records: [String]
    var slots: [RecordSlot]
    var batchShapes: [[Int]]  // per batch: index, records, errors
    var errors: [RecordError]
    var failure: RecordError?
    var records_: Int
}

private func readDoc(_ bytes: [UInt8], gzip: Bool, split: XMLSplit, segmentBytes: Int, chunkSize: Int, options base: XMLOptions,
                  maxRecordBytes: Int = 1 << 20) throws -> Read {
    let dir = try TempDir()
    var data = bytes
    if gzip { bytes.withUnsafeBytes { raw in var out: [UInt8] = []; GzipMember.compress(raw, level: 6, appendingTo: &out); data = out } }
    let file = try dir.write(gzip ? "doc.xml.gz" : "doc.xml", data)
    var options = base
    options.split = split
    options.segmentBytes = segmentBytes
    let (outcome, batches) = readAll(file, ReadOptions(format: .xml, batchSize: 3, maxRecordBytes: maxRecordBytes, chunkSize: chunkSize, xml: options))
    return Read(records: texts(batches), slots: slots(batches), batchShapes: batches.map { [$0.index, $0.records.count, $0.errors.count] },
                errors: batches.flatMap(\.errors), failure: outcome.failure, records_: outcome.records)
}

/// Reads `xml` unsplit and split at many segment sizes and chunk sizes, plain and gzip,
/// and expects every split read to equal the unsplit one; returns the unsplit read.
@discardableResult
private func expectSameSplit(_ xml: String, _ options: XMLOptions, maxRecordBytes: Int = 1 << 20,
                             segmentSizes: [Int] = [1, 7, 40, 97, 300, 1000], sourceLocation: SourceLocation = #_sourceLocation) throws -> Read {
    let bytes = Array(xml.utf8)
    let reference = try readDoc(bytes, gzip: false, split: .off, segmentBytes: 1 << 20, chunkSize: 256 << 10, options: options, maxRecordBytes: maxRecordBytes)
    for gzip in [false, true] {
        for chunk in [5, 64, 256 << 10] {
            // One parser with the same chunks (a guard verdict stops the file at a chunk boundary).
            let reference = try readDoc(bytes, gzip: gzip, split: .off, segmentBytes: 1 << 20, chunkSize: chunk, options: options,
                                        maxRecordBytes: maxRecordBytes)
            for size in segmentSizes {
                let split = try readDoc(bytes, gzip: gzip, split: .always, segmentBytes: size, chunkSize: chunk, options: options, maxRecordBytes: maxRecordBytes)
                #expect(split == reference, "segment \(size) B, chunk \(chunk) B, gzip \(gzip): \(difference(split, reference))",
                        sourceLocation: sourceLocation)
            }
        }
    }
    return reference
}

/// The first field where `a` and `b` differ, shortly.
private func difference(_ a: Read, _ b: Read) -> String {
    if a.records != b.records { return "records \(a.records.count) vs \(b.records.count)" }
    if a.slots != b.slots { return "slots: \(zip(a.slots, b.slots).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "counts")" }
    if a.batchShapes != b.batchShapes { return "batches \(a.batchShapes) vs \(b.batchShapes)" }
    if a.errors != b.errors { return "errors \(a.errors) vs \(b.errors)" }
    if a.failure != b.failure { return "failure \(String(describing: a.failure)) vs \(String(describing: b.failure))" }
    return "counts \(a.records_) vs \(b.records_)"
}

private func orders(_ count: Int, body: (Int) -> String = { "<total>\($0).50</total>" }) -> String {
    (1...count).map { "  <order id=\"\($0)\">\n    <status>paid</status>\(body($0))\n  </order>\n" }.joined()
}

private func paths(_ texts: String...) -> [XMLRecordPath] { texts.map { XMLRecordPath($0)! } }

extension InputsTests {
    @Suite struct XMLSegmentingTests {
        @Test func splitReadEqualsTheUnsplitOneAtEverySegmentSize() throws {
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders>\n" + orders(40) + "</orders>\n"
            let read = try expectSameSplit(xml, XMLOptions(records: paths("/orders/order")))
            #expect(read.records.count == 40)
            #expect(read.slots[1].line == 6)
            #expect(read.failure == nil)
        }

        @Test func theMarkupGuardFindsCutsOnlyDirectlyBelowTheRoot() {
            let xml = Array("<?xml version=\"1.0\"?><!-- <order> --><r a='>'><o><o/></o><!-- <o> --><o><![CDATA[<o>]]></o><?pi <o>?><o/></r>".utf8)
            var guardWithCuts = XMLMarkupGuard(maxAttributes: 10, maxTokenBytes: 1000, cutSpacing: 1)
            for i in 0..<xml.count {  // one byte at a time: every state crosses a chunk boundary
                _ = xml[i...i].withUnsafeBufferPointer { guardWithCuts.scan($0) }
            }
            let expected = ["<o><o/></o>", "<o><![CDATA", "<o/></r>"].map { needle in
                xml.indices.first { xml[$0...].starts(with: Array(needle.utf8)) && (needle != "<o/></r>" || xml[$0 - 1] == UInt8(ascii: ">")) }!
            }
            #expect(guardWithCuts.cuts == expected)
            #expect(guardWithCuts.rootTagEnd == expected[0])
        }

        @Test func theCutScanPlacesTheGuardsCutsWithoutFollowingEveryByte() {
            // `cutsOnly` jumps from `<` to `<` past the root's start tag: on well-formed
            // documents its cuts must be the full guard's, however the chunks fall.
            var random = SplitMix64(seed: 10)
            func pick(_ items: [String]) -> String { items[Int(random.next() % UInt64(items.count))] }
            let pieces = ["<o a='>' b=\"/>\"><i/></o>", "<o><!-- <o> -- > --></o>", "<!-- <o/> -->", "<o><![CDATA[<o> ]] > ]]></o>",
                          "<?pi <o> ? > ?>", "<o x='1'/>", "<o><o><o/></o></o>", "\n  ", "<o>t &amp; &#60;</o>", "<![CDATA[]]>", "<!---->",
                          "<o\n  k = \"v\"\n/>", "<p:o xmlns:p='urn:p' p:a=\"'\"/>", "<o>></o>"]
            for round in 0..<300 {
                var xml = pick(["", "<?xml version=\"1.0\"?>\n", "<!DOCTYPE r [<!ENTITY e \"<o>\"><!-- <o> -->]>\n"])
                xml += pick(["<r>", "<r a='<'>", "<r xmlns='urn:x' b=\">\">"])
                for _ in 0..<(1 + random.next() % 40) { xml += pick(pieces) }
                xml += "</r>" + pick(["", "\n", "<!-- <o> -->", "<?pi?>"])
                let bytes = Array(xml.utf8)
                let spacing = 1 + Int(random.next() % 50)
                var full = XMLMarkupGuard(maxAttributes: 100, maxTokenBytes: 1000, cutSpacing: spacing)
                var fast = XMLMarkupGuard(maxAttributes: 100, maxTokenBytes: 1000, cutSpacing: spacing, cutsOnly: true)
                #expect(bytes.withUnsafeBufferPointer { full.scan($0) } == nil)
                var start = 0
                while start < bytes.count {  // chunks of 1 to 9 bytes: every state crosses a boundary
                    let end = min(bytes.count, start + (round % 3 == 0 ? 1 : 1 + Int(random.next() % 9)))
                    #expect(bytes[start..<end].withUnsafeBufferPointer { fast.scan($0) } == nil)
                    start = end
                }
                #expect(fast.cuts == full.cuts, "\(xml)")
                #expect(fast.rootTagEnd == full.rootTagEnd)
            }
            // Past the root's start tag it gives no verdicts (the segment parsers and the guard
            // on each segment do); before it, the guard's.
            let wide = "<r><o" + String(repeating: " a=''", count: 20) + "/></r>"
            var fast = XMLMarkupGuard(maxAttributes: 8, maxTokenBytes: 1000, cutSpacing: 1, cutsOnly: true)
            #expect(Array(wide.utf8).withUnsafeBufferPointer { fast.scan($0) } == nil)
            var root = XMLMarkupGuard(maxAttributes: 8, maxTokenBytes: 1000, cutSpacing: 1, cutsOnly: true)
            #expect(Array("<r\(String(repeating: " a=''", count: 20))>".utf8).withUnsafeBufferPointer { root.scan($0) } != nil)
        }

        @Test func namespacesDeclaredOnTheRootReachEverySegment() throws {
            let records = (1...30).map { i in
                i % 3 == 0 ? "<m:rec x:href=\"h\(i)\"><m:v>\(i)</m:v><plain>p</plain></m:rec>" : "<rec xmlns:y=\"urn:y\" y:k=\"\(i)\"><v>\(i)</v></rec>"
            }.joined(separator: "\n")
            let xml = "<root xmlns=\"urn:default\" xmlns:m=\"urn:m\" xmlns:x=\"urn:x\">\n\(records)\n</root>"
            let kept = try expectSameSplit(xml, XMLOptions(records: paths("/root/*"), tagsRecords: true))
            #expect(kept.records.count == 30)
            #expect(kept.records[2] == ##"{"#name":"m:rec","@x:href":"h3","m:v":"3","plain":"p"}"##)
            try expectSameSplit(xml, XMLOptions(records: paths("/root/*"), stripsNamespaces: true))
            // A prefix bound on the root is bound in every segment: no namespace error.
            #expect(kept.failure == nil)
        }

        @Test func commentsCDATAAndProcessingInstructionsHoldingRecordTagsStayWhole() throws {
            let xml = "<orders>\n" + (1...25).map { i in
                "<!-- <order id=\"c\(i)\"><total>1</total></order> -->\n<?pi <order id=\"p\"> ?>\n"
                    + "<order id=\"\(i)\"><note><![CDATA[</order><order id=\"x\">]]></note><total>\(i)</total></order>\n"
            }.joined() + "</orders>"
            let read = try expectSameSplit(xml, XMLOptions(records: paths("/orders/order")))
            #expect(read.records.count == 25)
            #expect(read.records[0] == ##"{"@id":"1","note":"</order><order id=\"x\">","total":"1"}"##)
        }

        @Test func aMalformedRecordInALaterSegmentFailsWithTheUnsplitMessageAndLine() throws {
            let xml = "<orders>\n" + orders(12) + "  <order id=\"13\"><total>1</total></ordr>\n" + orders(5) + "</orders>\n"
            let read = try expectSameSplit(xml, XMLOptions(records: paths("/orders/order")))
            #expect(read.failure?.kind == .parse)
            #expect(read.failure?.line == 38)
            #expect(read.failure?.message.contains("line 38") == true)
            #expect(read.records.count == 12)
        }

        @Test func guardVerdictsAndEntityRulesAreTheUnsplitOnes() throws {
            // A start tag over max_attributes in a later segment.
            let attributes = (0..<20).map { " a\($0)=\"v\"" }.joined()
            let xml = "<orders>\n" + orders(10) + "<order\(attributes)/>\n" + orders(3) + "</orders>"
            var options = XMLOptions(records: paths("/orders/order"), maxAttributes: 8)
            let read = try expectSameSplit(xml, options)
            #expect(read.failure?.message.contains("max_attributes") == true)
            // An internal subset is replayed in each segment: a declared entity still fails the file.
            let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE orders [<!ELEMENT orders ANY><!ATTLIST order kind CDATA \"std\">]>\n<orders>\n"
            options = XMLOptions(records: paths("/orders/order"))
            let entity = "<!DOCTYPE orders [<!ENTITY e \"boom\">]>\n<orders>\n"
            let declared = try expectSameSplit(entity + orders(10) + "<order id=\"x\">&e;</order>\n" + orders(2) + "</orders>", options)
            #expect(declared.failure?.message.contains("entity '&e;' is declared in the document") == true)
            let laughs = "<!DOCTYPE orders [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<orders>\n"
            let bomb = try expectSameSplit(laughs + orders(8) + "<order>&b;</order>" + orders(8) + "</orders>", options)
            #expect(bomb.failure?.message.contains("is declared in the document") == true)
            // A DTD without references: records as without it, whatever the segments.
            let clean = try expectSameSplit(dtd + orders(10) + "</orders>", options)
            #expect(clean.failure == nil && clean.records.count == 10)
        }

        @Test func oneRecordAndNoRecordDocuments() throws {
            let one = try expectSameSplit("<orders><order id=\"1\"><total>2</total></order></orders>", XMLOptions(records: paths("/orders/order")))
            #expect(one.records == [##"{"@id":"1","total":"2"}"##])
            let none = try expectSameSplit("<orders/>", XMLOptions(records: paths("/orders/order")))
            #expect(none.records.isEmpty && none.failure == nil)
            let empty = try expectSameSplit("", XMLOptions(records: paths("/orders/order")))
            #expect(empty.failure != nil)
            let truncated = try expectSameSplit("<orders>\n" + orders(10) + "  <order id=\"x\"><total>", XMLOptions(records: paths("/orders/order")))
            #expect(truncated.failure?.kind == .parse)
        }

        @Test func recordsOverTheSizeLimitKeepTheirPlaceAmongTheOthers() throws {
            let xml = "<orders>\n" + orders(20) { $0 % 4 == 0 ? "<big>" + String(repeating: "x", count: 300) + "</big>" : "<t>\($0)</t>" } + "</orders>"
            let read = try expectSameSplit(xml, XMLOptions(records: paths("/orders/order")), maxRecordBytes: 200)
            #expect(read.errors.count == 5)
            #expect(read.records.count == 15)
        }

        @Test func aRootThatIsItselfARecordOrDeeperRecordsAreStillRight() throws {
            let xml = "<orders>\n" + orders(15) + "</orders>"
            let root = try expectSameSplit(xml, XMLOptions(records: paths("/orders")))
            #expect(root.records.count == 1)
            let bare = try expectSameSplit(xml, XMLOptions(records: paths("status")))
            #expect(bare.records.count == 15)
            let grouped = "<set>" + (1...6).map { "<group n=\"\($0)\">\(orders(3))</group>" }.joined() + "</set>"
            let deep = try expectSameSplit(grouped, XMLOptions(records: paths("/set/group/order"), arrays: ["status"]))
            #expect(deep.records.count == 18)
        }

        @Test func aHugeChildOfTheRootGoesOnInOneParserWithShiftedLines() throws {
            // Cuts before the big group, then none for over 1 MiB: the rest streams through
            // one parser started after the prolog, its lines and offsets shifted.
            let small = (1...20).map { "<group n=\"\($0)\">\(orders(2))</group>\n" }.joined()
            let big = "<group n=\"big\">\n" + orders(15000) + "</group>\n"
            let xml = "<set>\n" + small + big + small + "</set>\n"
            #expect(xml.utf8.count > 1 << 20)
            let options = XMLOptions(records: paths("order"))
            let bytes = Array(xml.utf8)
            for gzip in [false, true] {
                for chunk in [4096, 256 << 10] {
                    let reference = try readDoc(bytes, gzip: gzip, split: .off, segmentBytes: 1 << 20, chunkSize: chunk, options: options)
                    let split = try readDoc(bytes, gzip: gzip, split: .always, segmentBytes: 100, chunkSize: chunk, options: options)
                    #expect(split == reference, "chunk \(chunk), gzip \(gzip): \(difference(split, reference))")
                    #expect(reference.records.count == 15080 && reference.failure == nil)
                }
            }
        }

        @Test func firstChunksShorterThanFourBytesStillShowTheEncoding() throws {
            // zlib's decoder handed the framer fewer than 4 bytes first (a byte order mark
            // cut short), and libxml2 then saw an empty document: the parser is made once 4
            // bytes have come, whichever decoder inflates.
            let bom = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders>\n" + orders(12) + "</orders>"
            var options = XMLOptions(records: paths("/orders/order"))
            options.split = .off
            let dir = try TempDir()
            var gz: [UInt8] = []
            Array(bom.utf8).withUnsafeBytes { GzipMember.compress($0, level: 6, appendingTo: &gz) }
            let file = try dir.write("doc.xml.gz", gz)
            for fallback in [false, true] {
                for chunk in [2, 3, 5, 64, 256 << 10] {
                    var read = ReadOptions(format: .xml, batchSize: 3, chunkSize: chunk, xml: options)
                    read.codecs = CodecOptions(usesFallback: fallback)
                    let (outcome, batches) = readAll(file, read)
                    #expect(outcome.failure == nil && texts(batches).count == 12, "zlib \(fallback), chunk \(chunk): \(String(describing: outcome.failure))")
                }
            }
        }

        @Test func encodingsAndByteOrderMarksAreThoseOfTheDocument() throws {
            let bom = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders>\n" + orders(12) + "</orders>"
            let read = try expectSameSplit(bom, XMLOptions(records: paths("/orders/order")))
            #expect(read.records.count == 12)
            // ISO-8859-1: libxml2 converts in every segment alike (the declaration is replayed).
            var latin = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<orders>\n".utf8)
            for i in 1...12 { latin += Array("<order id=\"\(i)\"><name>M".utf8) + [0xFC] + Array("ller</name></order>\n".utf8) }
            latin += Array("</orders>".utf8)
            let reference = try readDoc(latin, gzip: false, split: .off, segmentBytes: 1 << 20, chunkSize: 1 << 18, options: XMLOptions(records: paths("/orders/order")))
            for size in [1, 50, 200] {
                let split = try readDoc(latin, gzip: true, split: .always, segmentBytes: size, chunkSize: 64, options: XMLOptions(records: paths("/orders/order")))
                #expect(split == reference)
            }
            #expect(reference.records.first == ##"{"@id":"1","name":"Müller"}"##)
        }

        @Test func theSplitFramerCutsTheDocumentIntoSegments() throws {
            let xml = Array(("<orders>\n" + orders(30) + "</orders>").utf8)
            var options = XMLOptions(records: paths("/orders/order"), split: .always)
            options.segmentBytes = 200
            let assembler = BatchAssembler(fileIndex: 0, file: "doc.xml", options: ReadOptions(batchSize: 1000))
            let framer = XMLSegmentedFramer(assembler: assembler, options: options, maxRecordBytes: 1 << 20, threads: 2,
                                            source: .init(path: "/nonexistent", chunkSize: 1 << 16, codecs: CodecOptions()))
            var batches: [Batch] = []
            for start in stride(from: 0, to: xml.count, by: 100) {
                try xml[start..<min(xml.count, start + 100)].withUnsafeBufferPointer { (chunk) throws(InputFault) in
                    try framer.consume(chunk, emit: { batches.append($0) })
                }
            }
            try framer.finish(emit: { batches.append($0) })
            #expect(framer.segmentCount >= xml.count / 200 - 1)
            #expect(texts(batches).count == 30)
            #expect(slots(batches).map(\.line) == (0..<30).map { 2 + 3 * $0 })
        }
    }
}
