import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension RobustnessTests {
    @Suite struct XMLRobustnessTests {
        static let seed: UInt64 = 0x5EED_0005

        static let documents = [
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <orders>
              <order id="1" vip="yes"><customer id="c-1"><country>NL</country></customer>
                <items><item sku="A" qty="2"><price>1.50</price></item><item sku="B"/></items>
                <total currency="EUR">3.00</total><note>a &amp; b <![CDATA[<c>]]> &#x263A;</note></order>
              <order id="2"><status>paid</status><!-- comment --><?pi data?></order>
              <order id="3"/>
            </orders>
            """,
            """
            <!DOCTYPE orders [<!ENTITY e "x">]><orders xmlns:m="urn:m"><m:order m:id="7">&e;<m:t>é😀</m:t></m:order><order>text<b>bold</b>tail</order></orders>
            """,
            "<r><order><a><b><c><d>deep</d></c></b></a></order><order a='1' b=\"2\">  </order></r>",
        ]

        /// Mutated XML: records and/or one file-level failure; never a trap or a hang; when
        /// the file reads cleanly, every chunk size gives the same records.
        @Test func mutatedDocumentsFrameOrFailCleanly() throws {
            var rng = SplitMix64(seed: Self.seed)
            let dir = try TempDir()
            let options = XMLOptions(records: [XMLRecordPath("/*/*")!], arrays: ["item"], tagsRecords: false, maxDepth: 16, maxAttributes: 8, maxTokenBytes: 512)
            for n in 0..<150 {
                var bytes = Array(rng.pick(Self.documents).utf8)
                if rng.chance(0.2) { bytes = [0xEF, 0xBB, 0xBF] + bytes }
                if rng.chance(0.1) { bytes = Array(String(repeating: "<a>", count: rng.int(10...40)).utf8) + bytes }
                bytes = Mutator.mutate(bytes, using: &rng)
                for _ in 0..<rng.int(0...2) {
                    bytes.insert(contentsOf: Array(rng.pick(["<", ">", "</order>", "<order>", "&", "&amp", "&#0;", "&#xD800;", "]]>", "<![CDATA[", "<!--", "\"", "=", "xmlns:x=\"\"", "<?xml version='1.0' encoding='UTF-16'?>"]).utf8),
                                     at: rng.int(0...bytes.count))
                }
                let file = try dir.write("case\(n).xml", bytes)
                var first: ReadSnapshot?
                for chunkSize in [rng.int(2...9), rng.int(10...300), 1 << 20] {
                    let (outcome, batches) = readAll(file, ReadOptions(format: .xml, batchSize: 3, maxRecordBytes: 4096, chunkSize: chunkSize, xml: options))
                    let snapshot = ReadSnapshot(outcome, batches)
                    if let failure = outcome.failure {
                        #expect(failure.kind == .parse || failure.kind == .limit || failure.kind == .io, "case \(n): \(failure)")
                    } else if let first, first.outcome.failure == nil {
                        #expect(snapshot.records == first.records && snapshot.errors.count == first.errors.count, "case \(n): chunk size \(chunkSize) differs")
                    }
                    for record in snapshot.records {
                        var tape: [TapeEntry] = []
                        let valid = record.text.withUnsafeBufferPointer { buffer in
                            (try? JSONIndexer.index(buffer, start: 0, end: buffer.count, into: &tape)) != nil
                        }
                        #expect(valid, "case \(n): an XML record is not valid JSON: \(String(decoding: record.text, as: UTF8.self))")
                    }
                    if first == nil { first = snapshot }
                }
            }
        }
    }
}
