import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct XMLInputConfigTests {
    @Test func readsEveryXMLKey() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input:
              path: in
              format: xml
              xml:
                record: [/set/a, /set/b]
                arrays: [item, tag]
                attribute_prefix: "_"
                text_key: value
                namespaces: strip
                max_depth: 64
                max_attributes: 10
                max_token_bytes: 64KiB
            output: { path: out }
            """)
        let xml = config.input.xml
        #expect(config.input.format == .xml)
        #expect(xml.records.map(\.description) == ["/set/a", "/set/b"])
        #expect(xml.arrays == ["item", "tag"] && xml.attributePrefix == "_" && xml.textKey == "value")
        #expect(xml.tagsRecords && xml.nameKey == "#name" && xml.stripsNamespaces)
        #expect(xml.maxDepth == 64 && xml.maxAttributes == 10 && xml.maxTokenBytes == 64 << 10)
    }

    @Test func defaultsAndTagging() throws {
        let plain = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in, xml: { record: order } }\noutput: { path: out }\n")
        #expect(plain.input.xml.records.map(\.description) == ["order"] && !plain.input.xml.tagsRecords)
        #expect(plain.input.xml.maxDepth == 256 && plain.input.xml.maxAttributes == 256 && plain.input.xml.maxTokenBytes == 1 << 20)
        let none = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in }\noutput: { path: out }\n")
        #expect(none.input.xml.records.map(\.description) == ["/*/*"] && none.input.xml.tagsRecords)
        let named = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in, xml: { record: /a/b, name_key: kind } }\noutput: { path: out }\n")
        #expect(named.input.xml.tagsRecords && named.input.xml.nameKey == "kind")
    }

    /// XML records come indexed at the limit the first stage indexes with (`input.max_depth`).
    @Test func recordsAreIndexedAtTheInputDepthLimit() throws {
        let plain = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in, xml: { record: order } }\noutput: { path: out }\n")
        #expect(plain.input.xml.jsonMaxDepth == plain.input.maxDepth && plain.input.maxDepth == 512)
        let shallow = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in, max_depth: 3, xml: { max_depth: 9 } }\noutput: { path: out }\n")
        #expect(shallow.input.xml.jsonMaxDepth == 3 && shallow.input.xml.maxDepth == 9)
        #expect(XMLOptions().jsonMaxDepth == nil)
    }

    @Test func reportsBadXMLKeysWithTheirPlace() {
        let yaml = """
            name: t
            input:
              path: in
              xml:
                record: [/a//b, "a/b"]
                namespace: strip
                max_depth: 0
            output: { path: out }
            """
        do {
            _ = try PipelineConfig.parse(yaml: yaml, file: "x.yaml")
            Issue.record("expected a config error")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(lines.contains { $0.hasPrefix("x.yaml:5:13: input.xml.record: '/a//b' is not an element path") })
            #expect(lines.contains { $0.hasPrefix("x.yaml:5:13: input.xml.record: 'a/b' is not an element path") })
            #expect(lines.contains("x.yaml:6:5: input.xml.namespace: unknown key 'namespace' (did you mean 'namespaces'?)"))
            #expect(lines.contains("x.yaml:7:16: input.xml.max_depth: 0 is out of range 1...10000"))
            #expect(error.problems.count == 4, "\(lines)")
        }
    }
}
