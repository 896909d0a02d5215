import Testing
@testable import Sluice

/// The key lists that generate docs/stages.md are the ones the loader allows.
@Suite struct StageKeysTests {
    @Test func everyKindDocumentsItsKeys() {
        for kind in StageRegistry.kinds {
            #expect(!kind.keys.isEmpty, "\(kind.name) has no documented keys")
            #expect(kind.keys.allSatisfy { !$0.doc.isEmpty && !$0.type.isEmpty }, "\(kind.name)")
        }
    }

    @Test func commandKeysAreTheLoadersKeys() {
        #expect(StageRegistry.commandKeys.names == CommandStage.keys)
    }

    @Test(arguments: ["explode", "dedupe", "sample", "lookup", "flatten", "unflatten", "validate"])
    func anUndocumentedKeyIsRejected(kind: String) {
        let yaml = "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - \(kind): { bogus_key: 1 }\n"
        do {
            _ = try PipelineConfig.parse(yaml: yaml)
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.contains { $0.message.contains("unknown key 'bogus_key'") }, "\(error.problems)")
        }
    }
}
