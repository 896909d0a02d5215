import Foundation
import Testing
@testable import SluiceCore
@testable import SluiceIO

/// The record tree's shortcuts against the plain way: values checked a word at a time,
/// keys written from the per-name cache (past its 256 slots and its byte limit), and
/// whitespace-only text before a tag counted but not stored.
extension InputsTests {
    @Suite struct XMLRecordBuildingTests {
        /// `bytes` escaped by the checked (word-at-a-time) path and by the plain scan.
        private static func escapedBoth(_ bytes: [UInt8]) -> (checked: [UInt8], outcome: UInt8, plain: [UInt8]) {
            var fast = XMLScratch<UInt8>(capacity: 4)
            var slow = XMLScratch<UInt8>(capacity: 4)
            defer {
                fast.deallocate()
                slow.deallocate()
            }
            // Exactly `count` bytes allocated, so a read past the end would show (ASan) and
            // a word check that looked past it would judge bytes that are not there.
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
            defer { p.deallocate() }
            p.update(from: bytes, count: bytes.count)
            let outcome = fast.appendJSONEscapedChecked(p, count: bytes.count)
            slow.appendJSONEscaped(p, count: bytes.count)
            return (Array(fast.bytes), outcome, Array(slow.bytes))
        }

        @Test func everyLengthAndPositionOfASpecialByteEscapesAsThePlainScan() {
            let specials: [[UInt8]] = [[0x22], [0x5C], [0x00], [0x1F], [0x0A], [0x7F], [0xC3, 0xA9], [0xFF], [0xE2, 0x82]]
            for length in 0...40 {
                let clean = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
                let plain = Self.escapedBoth(clean)
                #expect(plain.checked == clean && plain.outcome == 0, "clean \(length)")
                for special in specials {
                    for at in 0..<max(1, length) where length > 0 {
                        var bytes = clean
                        bytes.replaceSubrange(at..<min(length, at + 1), with: special)
                        let both = Self.escapedBoth(bytes)
                        #expect(both.checked == both.plain, "\(special) at \(at) of \(length)")
                        let escapes = special[0] < 0x20 || special[0] == 0x22 || special[0] == 0x5C
                        #expect((both.outcome & TapeEntry.hasEscapes != 0) == escapes, "\(special) at \(at) of \(length)")
                        let malformed = special == [0xFF] || special == [0xE2, 0x82]
                        #expect((both.outcome & XMLScratch<UInt8>.malformedUTF8 != 0) == malformed, "\(special) at \(at) of \(length)")
                    }
                }
            }
        }

        /// A record with `names` distinct child names, each child also carrying an attribute
        /// of its own name: the JSON the tree writes, and the JSON expected.
        private static func record(names: [String]) -> (written: String, expected: String) {
            var table = XMLNameTable()
            var tree = XMLRecordTree(options: XMLOptions(records: [XMLRecordPath("/r")!]))
            defer {
                tree.deallocate()
                table.deallocate()
            }
            let value: [UInt8] = Array("v".utf8)
            return value.withUnsafeBufferPointer { v in
                let root = table.intern(Array("r".utf8), count: 1)
                tree.startElement(prefix: nil, local: root, attributeCount: 0, attributes: nil)
                var expected = "{"
                for (i, name) in names.enumerated() {
                    let bytes = Array(name.utf8)
                    let local = table.intern(bytes, count: bytes.count)
                    let raw = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: 5)
                    defer { raw.deallocate() }
                    raw.initialize(repeating: nil, count: 5)
                    raw[0] = local
                    raw[3] = v.baseAddress!
                    raw[4] = v.baseAddress! + 1
                    tree.startElement(prefix: nil, local: local, attributeCount: 1, attributes: raw)
                    tree.endElement()
                    expected += (i == 0 ? "" : ",") + "\"\(name)\":{\"@\(name)\":\"v\"}"
                }
                tree.endElement()
                // Twice: the second time every key comes from the cache (or a rebuilt slot).
                _ = tree.write(tagged: false)
                return (String(decoding: tree.write(tagged: false), as: UTF8.self), expected + "}")
            }
        }

        @Test func keysFromTheNameCacheMatchTheNames() {
            // More names than slots: colliding names replace each other's entries.
            let many = (0..<700).map { "n\($0)" }
            let (written, expected) = Self.record(names: many)
            #expect(written == expected)
            // Long names: the keys' bytes pass their limit and are rebuilt mid-record.
            let long = (0..<3000).map { "k\($0)" + String(repeating: "x", count: 400) }
            let (longWritten, longExpected) = Self.record(names: long)
            #expect(longWritten == longExpected)
        }

        /// Records of `xml` (records `/r/a`, untagged) as JSON texts.
        private static func records(_ xml: String, maxRecordBytes: Int = 1 << 20) throws -> ([String], Int) {
            let dir = try TempDir()
            let file = try dir.write("doc.xml", Array(xml.utf8))
            let options = ReadOptions(format: .xml, batchSize: 100, maxRecordBytes: maxRecordBytes,
                                      xml: XMLOptions(records: [XMLRecordPath("/r/a")!]))
            let (_, batches) = readAll(file, options)
            return (texts(batches), batches.reduce(0) { $0 + $1.errors.count })
        }

        @Test func whitespaceBeforeATagIsDroppedUnlessItContinuesText() throws {
            let (texts, _) = try Self.records("""
                <r>
                  <a>
                    <b>1</b>
                    <c> </c>
                  </a>
                  <a>x<!-- c -->  <b/>  </a>
                  <a>&amp;  <b/></a>
                  <a>  <![CDATA[ ]]>  <b/>y  </a>
                  <a>  <![CDATA[z]]>  <b/></a>
                </r>
                """)
            #expect(texts == [
                #"{"b":"1","c":""}"#,
                ##"{"b":"","#text":"x  "}"##,
                ##"{"b":"","#text":"&  "}"##,
                ##"{"b":"","#text":"y  "}"##,
                ##"{"b":"","#text":"  z  "}"##,
            ])
        }

        @Test func whitespaceBeforeATagStillCountsTowardMaxRecordBytes() throws {
            // 60 bytes of indentation alone put the record past 50 bytes, as before.
            let indent = String(repeating: " ", count: 60)
            let (texts, errors) = try Self.records("<r><a>\(indent)<b/>\(indent)</a><a><b/></a></r>", maxRecordBytes: 50)
            #expect(texts == [#"{"b":""}"#])
            #expect(errors == 1)
        }
    }
}
