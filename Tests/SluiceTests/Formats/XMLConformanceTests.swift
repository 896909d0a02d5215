import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// XML over the public samples in `../shared/conformance/` (skipped when absent): the
/// defusedxml attack set, libxml2's own test files, and real PubMed, DBLP and OSM files.
@Suite(.enabled(if: TestSupport.runsConformance(TestSupport.conformance.appendingPathComponent("xml")), TestSupport.conformanceNote))
struct XMLConformanceTests {
    static let xmlRoot = TestSupport.conformance.appendingPathComponent("xml")
    static let realRoot = TestSupport.conformance.appendingPathComponent("real")
    /// Always true when the suite runs without its data: then it is required, and must fail.
    static var isPresent: Bool { FileManager.default.fileExists(atPath: xmlRoot.path) || TestSupport.requiresConformance }

    /// The files that parse (every record is the root element). Every other `.xml` file
    /// fails with a `parse` error: entity bombs, external entities and every document that
    /// uses an entity it declares (Sluice expands none), and the malformed documents.
    static let accepted: Set<String> = [
        // defusedxml: controls, an internal DTD, and an external DTD that is never fetched.
        "defusedxml/xmltestdata/simple.xml", "defusedxml/xmltestdata/simple-ns.xml",
        "defusedxml/xmltestdata/dtd.xml", "defusedxml/xmltestdata/dtd_element.xml",
        // Encodings, CDATA, comments, PIs, namespaces, long names.
        "libxml2/test/adjacent-cdata.xml", "libxml2/test/badcomment.xml", "libxml2/test/bigname.xml",
        "libxml2/test/cdata-4-byte-UTF-8.xml", "libxml2/test/comment.xml", "libxml2/test/comment6.xml",
        "libxml2/test/ebcdic_566012.xml", "libxml2/test/emptycdata.xml", "libxml2/test/intsubset.xml",
        "libxml2/test/iso-8859-5.xml", "libxml2/test/japancrlf.xml", "libxml2/test/nsclean.xml",
        "libxml2/test/pi.xml", "libxml2/test/pi2.xml", "libxml2/test/title.xml", "libxml2/test/winblanks.xml",
        "libxml2/test/text-4-byte-UTF-16-BE.xml", "libxml2/test/text-4-byte-UTF-16-LE.xml",
        "libxml2/test/utf16bebom.xml", "libxml2/test/utf16bom.xml", "libxml2/test/utf16lebom.xml", "libxml2/test/utf8bom.xml",
        // An undeclared entity under a DOCTYPE is kept as written (`&undeclared;`).
        "libxml2/test/undeclared-entity.xml",
        // Parameter-entity bombs in an external DTD: the DTD is never loaded, so nothing expands.
        "libxml2/test/recurse/lol_ip_content.xml", "libxml2/test/recurse/lol_ip_value.xml",
        // errors/ files that libxml2 2.9.14's push parser accepts, or reports only as warnings
        // (a duplicate ATTLIST, a redeclared predefined entity, attribute defaults that are
        // never applied, a DOCTYPE without its space, trailing bytes after a UTF-16 root).
        "libxml2/test/errors/attr3.xml", "libxml2/test/errors/ent_redecl.xml",
        "libxml2/test/errors/quadratic-defattr.xml", "libxml2/test/errors/doctype1.xml",
        "libxml2/test/errors/doctype2.xml", "libxml2/test/errors/truncated-utf16.xml",
    ]

    static var files: [String] {
        guard let walker = FileManager.default.enumerator(atPath: xmlRoot.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".xml") }.sorted()
    }

    static func read(_ path: String, root: URL, _ xml: XMLOptions) -> (FileReadOutcome, [String]) {
        let url = root.appendingPathComponent(path)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let file = InputFile(relativePath: path, path: url.path, size: size, mtime: 0)
        var batches: [Batch] = []
        let outcome = FileReader.read(file, fileIndex: 0, options: ReadOptions(format: .xml, xml: xml)) { batches.append($0) }
        return (outcome, texts(batches))
    }

    @Test func everyFileHasItsOutcome() throws {
        guard Self.isPresent else { return }
        let files = Self.files
        #expect(FileManager.default.fileExists(atPath: Self.xmlRoot.path), "conformance data not found at \(Self.xmlRoot.path)")
        #expect(files.count >= 90)
        #expect(Self.accepted.isSubset(of: Set(files)))
        for path in files {
            let (outcome, records) = Self.read(path, root: Self.xmlRoot, XMLOptions(records: [XMLRecordPath("/*")!]))
            let everything = records.joined() + (outcome.failure?.message ?? "")
            #expect(!everything.contains("root:x:0:0"), "\(path) leaks /etc/passwd")
            #expect(!everything.contains("<heading>Reminder</heading>") && !everything.contains("Jani"), "\(path) leaks a fetched URL")
            if Self.accepted.contains(path) {
                #expect(outcome.failure == nil, "\(path): \(outcome.failure?.message ?? "")")
                #expect(records.count == 1, "\(path)")
            } else {
                let failure = outcome.failure
                #expect(failure?.kind == .parse && failure?.message.hasPrefix("xml: ") == true, "\(path) should fail: \(records)")
                #expect(records.isEmpty || failure != nil, "\(path)")
            }
        }
    }

    @Test(arguments: [
        ("defusedxml/xmltestdata/xmlbomb.xml", "entity '&a;' is declared in the document"),
        ("defusedxml/xmltestdata/quadratic.xml", "entity '&a;' is declared in the document"),
        ("defusedxml/xmltestdata/external_file.xml", "entity '&ee;' is declared in the document"),
        ("libxml2/test/recurse/lol_ep.xml", "entity '%p3;' is declared in the document"),
        ("libxml2/test/errors/unclosed-element.xml", "xml: line 1"),
        ("libxml2/test/errors/unsupported-encoding.xml", "Unsupported encoding"),
        ("libxml2/test/errors/utf8-1.xml", "xml: line 1"),
    ])
    func attacksAndErrorsNameTheirCause(path: String, message: String) {
        guard Self.isPresent else { return }
        let (outcome, _) = Self.read(path, root: Self.xmlRoot, XMLOptions(records: [XMLRecordPath("/*")!]))
        #expect(outcome.failure?.message.contains(message) == true, "\(outcome.failure?.message ?? "accepted")")
    }

    @Test func encodingsDecodeToUTF8() {
        guard Self.isPresent else { return }
        let root = XMLOptions(records: [XMLRecordPath("/*")!])
        #expect(Self.read("libxml2/test/ebcdic_566012.xml", root: Self.xmlRoot, root).1 == [##"{"#name":"test","@attr":"ÄÖÜ"}"##])
        #expect(Self.read("libxml2/test/utf16lebom.xml", root: Self.xmlRoot, root).1 == Self.read("libxml2/test/utf16bebom.xml", root: Self.xmlRoot, root).1)
        #expect(Self.read("libxml2/test/iso-8859-5.xml", root: Self.xmlRoot, root).1.first?.contains("ЁЂЃ") == true)
    }

    @Test func pubmedYieldsItsCitationsWithoutFetchingTheDTD() {
        guard Self.isPresent else { return }
        let options = XMLOptions(records: [XMLRecordPath("/MedlineCitationSet/MedlineCitation")!, XMLRecordPath("/MedlineCitationSet/DeleteCitation")!])
        let (outcome, records) = Self.read("pubmed/medline16n0902.xml.gz", root: Self.realRoot, options)
        #expect(outcome.failure == nil)
        #expect(records.filter { $0.hasPrefix(##"{"#name":"MedlineCitation""##) }.count == 604)
        #expect(records.filter { $0.hasPrefix(##"{"#name":"DeleteCitation""##) }.count == 1)
        #expect(outcome.decodedBytes == 3_892_888)
        let bare = XMLOptions(records: [XMLRecordPath("PubmedArticle")!])
        // SOURCE.md says 1, but the file holds four <PubmedArticle> elements (grep agrees).
        #expect(Self.read("pubmed/test_current_medline.xml.gz", root: Self.realRoot, bare).1.count == 4)
        #expect(Self.read("pubmed/pubmed-29768149.xml", root: Self.realRoot, bare).1.count == 1)
    }

    @Test func jatsKeepsOrStripsNamespacePrefixes() {
        guard Self.isPresent else { return }
        let kept = Self.read("pubmed/pone.0046493.nxml", root: Self.realRoot, XMLOptions(records: [XMLRecordPath("/article")!]))
        #expect(kept.0.failure == nil && kept.1.count == 1)
        #expect(kept.1.first?.contains(##""@xlink:href":"##) == true)
        let stripped = Self.read("pubmed/pone.0046493.nxml", root: Self.realRoot, XMLOptions(records: [XMLRecordPath("/article")!], stripsNamespaces: true))
        #expect(stripped.1.first?.contains(##""@href":"##) == true && stripped.1.first?.contains("xlink:") == false)
    }

    /// DBLP names an external DTD (`dblp.dtd`, present beside it) that defines its
    /// entities; Sluice does not load it, so `&uuml;` stays as written.
    @Test func dblpKeepsEntitiesOfTheUnloadedDTDAsWritten() {
        guard Self.isPresent else { return }
        let (outcome, records) = Self.read("dblp/dblp.xml", root: Self.realRoot, XMLOptions(records: [XMLRecordPath("/dblp/*")!]))
        #expect(outcome.failure == nil)
        #expect(records.count == 131)
        #expect(records.contains { $0.contains(##""author":"J&uuml;rgen Beyerer""##) })
        #expect(!records.joined().contains("\r"))
    }

    @Test func osmYieldsNodesWaysAndRelations() {
        guard Self.isPresent else { return }
        let options = XMLOptions(records: ["/osm/node", "/osm/way", "/osm/relation"].map { XMLRecordPath($0)! }, arrays: ["tag", "nd", "member"])
        let (outcome, records) = Self.read("osm/planet_10.068,48.135_10.071,48.137.osm", root: Self.realRoot, options)
        #expect(outcome.failure == nil)
        #expect(records.filter { $0.hasPrefix(##"{"#name":"node""##) }.count == 281)
        #expect(records.filter { $0.hasPrefix(##"{"#name":"way""##) }.count == 56)
        #expect(records.filter { $0.hasPrefix(##"{"#name":"relation""##) }.count == 2)
    }
}
