import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Reads `xml` (written as `name`, gzipped when it ends in `.gz`) with `options` and
/// returns the outcome and the records as JSON text.
private func readXML(_ xml: [UInt8], name: String = "doc.xml", _ xmlOptions: XMLOptions = XMLOptions(records: [XMLRecordPath("/*/*")!], tagsRecords: false),
                     maxRecordBytes: Int = 1 << 20, chunkSize: Int = 256 << 10) throws -> (FileReadOutcome, [String], [Batch]) {
    let dir = try TempDir()
    var bytes = xml
    if name.hasSuffix(".gz") { bytes.withUnsafeBytes { raw in var out: [UInt8] = []; GzipMember.compress(raw, level: 6, appendingTo: &out); bytes = out } }
    let file = try dir.write(name, bytes)
    let (outcome, batches) = readAll(file, ReadOptions(format: .auto, batchSize: 3, maxRecordBytes: maxRecordBytes, chunkSize: chunkSize, xml: xmlOptions))
    return (outcome, texts(batches), batches)
}

private func readXML(_ xml: String, name: String = "doc.xml", _ options: XMLOptions = XMLOptions(records: [XMLRecordPath("/*/*")!], tagsRecords: false),
                     maxRecordBytes: Int = 1 << 20, chunkSize: Int = 256 << 10) throws -> (FileReadOutcome, [String], [Batch]) {
    try readXML(Array(xml.utf8), name: name, options, maxRecordBytes: maxRecordBytes, chunkSize: chunkSize)
}

private func paths(_ texts: String...) -> [XMLRecordPath] { texts.map { XMLRecordPath($0)! } }

extension InputsTests {
    @Suite struct XMLFramingTests {
        @Test func mapsAttributesChildrenArraysAndText() throws {
            let xml = """
            <?xml version="1.0"?>
            <orders>
              <order id="1001" vip="yes">
                <customer id="c-1"><country>NL</country></customer>
                <items><item sku="A" qty="2"><price>1.50</price></item></items>
                <total currency="EUR">3.00</total>
                <note>a &amp; b &lt;c&gt; &#x263A; <![CDATA[<raw> & "quoted"]]></note>
                <tag>x</tag><other/><tag>y</tag>
                <status>paid</status>
              </order>
            </orders>
            """
            let (outcome, records, _) = try readXML(xml, XMLOptions(records: paths("/orders/order"), arrays: ["item"]))
            #expect(outcome.failure == nil)
            #expect(records == [##"{"@id":"1001","@vip":"yes","customer":{"@id":"c-1","country":"NL"},"items":{"item":[{"@sku":"A","@qty":"2","price":"1.50"}]},"total":{"@currency":"EUR","#text":"3.00"},"note":"a & b <c> ☺ <raw> & \"quoted\"","tag":["x","y"],"other":"","status":"paid"}"##])
        }

        @Test func mixedContentKeepsTextInOrderAndDropsWhitespace() throws {
            let (_, records, _) = try readXML("<r><p>Hello <b>big</b> wide <i>world</i>!</p>\n  \n<q>  </q></r>", XMLOptions(records: paths("/r")))
            #expect(records == [##"{"p":{"b":"big","i":"world","#text":"Hello  wide !"},"q":""}"##])
        }

        @Test func attributeAmpersandsAndQuotesSurvive() throws {
            let (_, records, _) = try readXML(##"<r><a v="x &amp; y &#38; z &quot;q&quot; &lt;t&gt; &#169;"/></r>"##, XMLOptions(records: paths("/r/a")))
            #expect(records == [##"{"@v":"x & y & z \"q\" <t> ©"}"##])
        }

        @Test func namespacesAreKeptAsWrittenOrStripped() throws {
            let xml = ##"<root xmlns:m="urn:m" xmlns:x="urn:x"><m:rec x:href="h"><m:math>1</m:math></m:rec></root>"##
            let (_, kept, _) = try readXML(xml, XMLOptions(records: paths("/root/m:rec")))
            #expect(kept == [##"{"@x:href":"h","m:math":"1"}"##])
            let (_, stripped, _) = try readXML(xml, XMLOptions(records: paths("/root/rec"), stripsNamespaces: true))
            #expect(stripped == [##"{"@href":"h","math":"1"}"##])
        }

        @Test func recordPathsBareNamesWildcardsAndTags() throws {
            let xml = "<set><a n=\"1\"><a n=\"inner\"/></a><b/><g><a n=\"2\"/></g></set>"
            let (_, bare, _) = try readXML(xml, XMLOptions(records: paths("a")))
            #expect(bare == [##"{"@n":"1","a":{"@n":"inner"}}"##, ##"{"@n":"2"}"##])
            let (_, wildcard, _) = try readXML(xml, XMLOptions(records: paths("/*/*")))
            #expect(wildcard.count == 3)
            #expect(wildcard[1] == ##"{"#name":"b"}"##)
            let (_, listed, _) = try readXML(xml, XMLOptions(records: paths("/set/b", "/set/g/a"), nameKey: "_type"))
            #expect(listed == [##"{"_type":"b"}"##, ##"{"_type":"a","@n":"2"}"##])
        }

        @Test func recordsCarryLinesAndBatchesFill() throws {
            let xml = "<r>\n" + (0..<7).map { "<e i=\"\($0)\"/>\n" }.joined() + "</r>\n"
            let (outcome, records, batches) = try readXML(xml, name: "doc.xml.gz", chunkSize: 5)
            #expect(outcome.failure == nil && outcome.records == 7 && outcome.batches == 3)
            #expect(records.first == ##"{"@i":"0"}"##)
            #expect(slots(batches).map(\.line) == Array(2...8))
        }

        @Test func encodingsComeOutAsUTF8() throws {
            let latin1: [UInt8] = Array(##"<?xml version="1.0" encoding="ISO-8859-1"?><r><e>"##.utf8) + [0x5A, 0xF6, 0x65] + Array("</e></r>".utf8)
            let (_, l1, _) = try readXML(latin1, XMLOptions(records: paths("/r")))
            #expect(l1 == [##"{"e":"Zöe"}"##])
            var utf16: [UInt8] = [0xFF, 0xFE]
            for unit in "<r><e>李雷</e></r>".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
            let (_, u16, _) = try readXML(utf16, XMLOptions(records: paths("/r")))
            #expect(u16 == [##"{"e":"李雷"}"##])
        }

        @Test func oversizedRecordIsALimitErrorAndTheFileGoesOn() throws {
            let big = String(repeating: "x", count: 5000)
            let xml = "<r><e>small</e><e>\(big)</e><e a=\"\(big)\"/><e>after</e></r>"
            let (outcome, records, batches) = try readXML(xml, maxRecordBytes: 1000)
            #expect(outcome.failure == nil)
            #expect(records == [##"{"#text":"small"}"##, ##"{"#text":"after"}"##])
            let errors = batches.flatMap(\.errors)
            #expect(errors.count == 2 && errors.allSatisfy { $0.kind == .limit })
        }

        @Test(arguments: [
            ("<r><a></b></r>", "Opening and ending tag mismatch"),
            ("<r><a>", "xml: line 1"),
            ("", "the document is empty"),
            ("<r/><s/>", "Extra content at the end of the document"),
            ("<r>&undefined;</r>", "Entity 'undefined' not defined"),
            ("<!DOCTYPE r [<!ENTITY e \"boom\">]><r>&e;</r>", "entity '&e;' is declared in the document"),
            ("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>", "entity '&x;' is declared in the document"),
            ("<r><p:a/></r>", "Namespace prefix p on a is not defined"),
        ])
        func malformedDocumentsFailTheFile(xml: String, message: String) throws {
            let (outcome, _, _) = try readXML(xml, XMLOptions(records: paths("/r/*")))
            let failure = try #require(outcome.failure)
            #expect(failure.kind == .parse && failure.stage == "input")
            #expect(failure.message.contains(message), "\(failure.message)")
            #expect(!failure.message.contains("root:"))
        }

        @Test func limitsFailTheFileQuickly() throws {
            let deep = String(repeating: "<a>", count: 300) + String(repeating: "</a>", count: 300)
            #expect(try readXML(deep).0.failure?.message.contains("input.xml.max_depth (256)") == true)
            let attributes = "<r><e " + (0..<50_000).map { "a\($0)=\"1\"" }.joined(separator: " ") + "/></r>"
            #expect(try readXML(attributes).0.failure?.message.contains("input.xml.max_attributes (256)") == true)
            let token = "<r><e a=\"" + String(repeating: "v", count: 2 << 20) + "\"/></r>"
            #expect(try readXML(token, chunkSize: 4096).0.failure?.message.contains("input.xml.max_token_bytes") == true)
            let reference = "<r><e>&" + String(repeating: "v", count: 2 << 20) + "</e></r>"
            #expect(try readXML(reference, chunkSize: 4096).0.failure?.message.contains("input.xml.max_token_bytes") == true)
            let comment = "<r><!--" + String(repeating: "-", count: 2 << 20) + "--></r>"
            #expect(try readXML(comment, chunkSize: 4096).0.failure?.message.contains("input.xml.max_token_bytes") == true)
            let cdata = "<r><e><![CDATA[" + String(repeating: "c", count: 2 << 20) + "]]></e><e>&amp;x</e></r>"
            #expect(try readXML(cdata, maxRecordBytes: 4 << 20, chunkSize: 4096).1.count == 2)  // CDATA streams: no token limit
            let small = XMLOptions(maxDepth: 3, maxAttributes: 2, maxTokenBytes: 64)
            #expect(try readXML("<a><b><c><d/></c></b></a>", small).0.failure?.message.contains("max_depth (3)") == true)
            #expect(try readXML("<a><b x='1' y='=2'/></a>", small).0.failure == nil)  // '=' inside quotes does not count
            #expect(try readXML("<a><b x='1' y='2' z='3'/></a>", small).0.failure?.message.contains("max_attributes (2)") == true)
        }

        /// The markup guard resumes its fast paths at every chunk boundary: neither its
        /// verdict nor the records may depend on where the decoded chunks split.
        @Test func guardVerdictDoesNotDependOnChunkBoundaries() throws {
            let xml = """
            <?xml version="1.0"?><!DOCTYPE r [<!-- a <comment> --><!ELEMENT r ANY>]>
            <r><?pi a > b?><e id="1" q='x > y = z'>t &amp; u &#x263A;<![CDATA[ ]] > ]]]></e>
            <!-- a - > b --><e id="2"><f/>text<g a="&quot;&lt;"></g></e><e id="3" b="long value with spaces and = signs">x</e></r>
            """
            let options = XMLOptions(records: paths("/r/e"), maxAttributes: 2, maxTokenBytes: 64)
            let (expectedOutcome, expected, _) = try readXML(xml, options)
            #expect(expectedOutcome.failure == nil)
            #expect(expected.count == 3)
            for chunkSize in 2...40 {
                let (outcome, records, _) = try readXML(xml, options, chunkSize: chunkSize)
                #expect(outcome.failure == nil, "chunk size \(chunkSize)")
                #expect(records == expected, "chunk size \(chunkSize)")
            }
            let tooMany = "<r><e a='1' b=\"2\" c='3'/></r>"
            let tooLong = "<r><e a='" + String(repeating: "v", count: 80) + "'/></r>"
            let endTag = "<r><e></e" + String(repeating: " ", count: 80) + "></r>"
            for chunkSize in 2...20 {
                #expect(try readXML(tooMany, options, chunkSize: chunkSize).0.failure?.message.contains("max_attributes (2)") == true)
                #expect(try readXML(tooLong, options, chunkSize: chunkSize).0.failure?.message.contains("max_token_bytes (64") == true)
                #expect(try readXML(endTag, options, chunkSize: chunkSize).0.failure?.message.contains("max_token_bytes (64") == true)
            }
        }

        @Test func externalDTDsAreNeverLoaded() throws {
            let dir = try TempDir()
            try dir.write("secret.dtd", "<!ENTITY leak \"SECRET-CONTENT\">")
            let xml = "<!DOCTYPE r SYSTEM \"\(dir.path)/secret.dtd\"><r><e>&leak;</e></r>"
            let (outcome, records, _) = try readXML(xml, XMLOptions(records: paths("/r/e")))
            #expect(outcome.failure == nil)
            #expect(records == [##"{"#text":"&leak;"}"##])
        }
    }
}
