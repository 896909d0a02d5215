import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The XML decisions of issue 16, through the real binary (W3C XML conformance):
/// undeclared entities, well-formedness by libxml2's flag rather than its messages,
/// whitespace beside an empty child, and colliding attribute names under
/// `namespaces: strip`.
@Suite(.serialized) struct XMLDecisionTests {
    /// Runs each document as its own file; returns output records and error lines by file.
    static func run(_ documents: [String: String], record: String = "/r/a", namespaces: String = "keep") throws -> (records: [String: [String]], errors: [String: String]) {
        let dir = TestSupport.temporaryDirectory("sluice-xml")
        defer { TestSupport.cleanup(dir) }
        for (name, text) in documents { try TestSupport.write(text, to: dir.appendingPathComponent("in/\(name).xml")) }
        let config = dir.appendingPathComponent("c.yaml")
        try TestSupport.write("""
            name: t
            input: { path: in, format: xml, readers: 1, xml: { record: "\(record)", namespaces: \(namespaces) } }
            output: { path: out, compression: none, layout: mirror }
            """, to: config)
        let child = try CronTests.Child(["run", config.path], in: dir)
        _ = child.wait()
        let out = dir.appendingPathComponent("out")
        var records: [String: [String]] = [:]
        for name in documents.keys {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
            if let file = names.first(where: { $0.hasPrefix(name + ".") && !$0.hasPrefix("errors") }) {
                records[name] = String(decoding: TestSupport.read(out.appendingPathComponent(file)), as: UTF8.self)
                    .split(separator: "\n").map(String.init)
            }
        }
        var errors: [String: String] = [:]
        for line in CronTests.committedErrors(out) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let file = object["file"] as? String, let message = object["message"] as? String else { continue }
            errors[String(file.dropLast(4))] = message
        }
        return (records, errors)
    }

    @Test func undeclaredEntityIsKeptOnlyWhenAnExternalDTDCouldDeclareIt() throws {
        let result = try Self.run([
            "internal": "<!DOCTYPE r [<!ELEMENT r ANY>]><r><a>x &aaa; y</a></r>",
            "external": "<!DOCTYPE r SYSTEM \"r.dtd\"><r><a>x &aaa; y</a></r>",
            "none": "<r><a>x &aaa; y</a></r>",
        ])
        #expect(result.errors["internal"]?.contains("Entity 'aaa' not defined") == true, "\(result)")
        #expect(result.errors["none"]?.contains("Entity 'aaa' not defined") == true, "\(result)")
        #expect(result.records["external"] == ["{\"#text\":\"x &aaa; y\"}"], "\(result)")
    }

    @Test func wellFormedDocumentsPassDespiteDTDMessages() throws {
        let result = try Self.run([
            "enum": "<!DOCTYPE r [<!ATTLIST a t (x|x) #IMPLIED>]><r><a t=\"x\">1</a></r>",
            "redeclared": "<!DOCTYPE r [<!ELEMENT a ANY><!ELEMENT a ANY>]><r><a>1</a></r>",
            "uri": "<!DOCTYPE r SYSTEM \"http://[bad\"><r><a>1</a></r>",
            "unbound": "<r><a>1</a><q:b>2</q:b></r>",
        ])
        #expect(result.records["enum"] == ["{\"@t\":\"x\",\"#text\":\"1\"}"], "\(result)")
        #expect(result.records["redeclared"] == ["\"1\""] || result.records["redeclared"] == ["{\"#text\":\"1\"}"], "\(result)")
        #expect(result.records["uri"] != nil && result.errors["uri"] == nil, "\(result)")
        #expect(result.errors["unbound"]?.contains("Namespace prefix q on b is not defined") == true, "namespace errors still fail: \(result)")
    }

    @Test func whitespaceBesideAnEmptyChildIsDropped() throws {
        let result = try Self.run([
            "empty": "<r><b>x<c/>  </b></r>",
            "full": "<r><b>x<c>1</c>  </b></r>",
            "between": "<r><b>x<c/> y</b></r>",
        ], record: "/r/b")
        #expect(result.records["empty"] == ["{\"c\":\"\",\"#text\":\"x\"}"], "\(result)")
        #expect(result.records["full"] == ["{\"c\":\"1\",\"#text\":\"x\"}"], "\(result)")
        #expect(result.records["between"] == ["{\"c\":\"\",\"#text\":\"x y\"}"], "\(result)")
    }

    @Test func strippedAttributeNamesStayDistinct() throws {
        let result = try Self.run([
            "both": "<r xmlns:q=\"urn:q\" xmlns:p=\"urn:p\"><a href=\"1\" q:href=\"2\"/><a p:id=\"3\" q:id=\"4\" q:x=\"5\"/></r>",
        ], namespaces: "strip")
        #expect(result.records["both"] == ["{\"@href\":\"1\",\"@q:href\":\"2\"}", "{\"@p:id\":\"3\",\"@q:id\":\"4\",\"@x\":\"5\"}"], "\(result)")
    }
}
