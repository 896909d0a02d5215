import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Every stage kind declares its value and keys (the table that generates docs/stages.md
/// and the JSON Schema); the loader reads through that declaration.
@Suite struct StageKeysTests {
    @Test func everyKindDocumentsItsKeys() {
        for kind in StageRegistry.kinds {
            #expect(!kind.summary.isEmpty, "\(kind.name)")
            let keys = kind.keys
            if keys.isEmpty {
                #expect(!kind.value.doc.isEmpty, "\(kind.name): a plain value needs its doc")
            }
            #expect(keys.allSatisfy { !$0.doc.isEmpty }, "\(kind.name)")
        }
    }

    @Test func kindNamesAreUnique() {
        let names = StageRegistry.kinds.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(!names.contains { ConfigSchema.stageCommon.map(\.name).contains($0) })
    }

    @Test func commandKeysAreDeclaredOnce() {
        // The long form's allowed keys, its docs and Config's defaults all come from CommandStage.Keys.
        #expect(StageRegistry.kind(named: "command")!.keys.map(\.name) == ["run", "timeout", "max_restarts", "env", "cwd", "stop_grace"])
        let config = CommandStage.Config(argv: ["x"])
        #expect(config.timeout == CommandStage.Keys.timeout.defaultValue)
        #expect(config.maxRestarts == CommandStage.Keys.maxRestarts.defaultValue)
        #expect(config.stopGrace == CommandStage.Keys.stopGrace.defaultValue)
    }

    @Test(arguments: StageRegistry.kinds.filter { !$0.keys.isEmpty }.map(\.name))
    func anUndocumentedKeyIsRejected(kind: String) {
        let yaml = "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - \(kind): { bogus_key: 1 }\n"
        do {
            _ = try PipelineConfig.parse(yaml: yaml)
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.contains { $0.message.contains("unknown key 'bogus_key'") }, "\(error.problems)")
        }
    }

    /// Every required key a kind declares is reported by name when it is left out.
    @Test(arguments: StageRegistry.kinds.filter { $0.keys.contains(where: \.isRequired) }.map(\.name))
    func aMissingRequiredKeyIsNamed(kind: String) {
        let yaml = "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - \(kind): {}\n"
        let required = StageRegistry.kind(named: kind)!.keys.filter(\.isRequired).map(\.name)
        do {
            _ = try PipelineConfig.parse(yaml: yaml)
            Issue.record("expected a config error")
        } catch {
            for key in required {
                #expect(error.problems.contains { $0.message.contains("missing required key") && $0.message.contains("'\(key)'") },
                        "\(kind).\(key): \(error.problems)")
            }
        }
    }

    /// Each stage key's range and default, as declared, is what the loader applies.
    @Test func declaredRangesAreTheLoadersRanges() {
        func problems(_ stage: String) -> [String] {
            let yaml = "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - \(stage)\n"
            do {
                _ = try PipelineConfig.parse(yaml: yaml)
                return []
            } catch {
                return error.problems.map(\.message)
            }
        }
        #expect(problems("dedupe: { key: id, max_keys: 0 }").contains { $0.contains("0 is out of range 1...\(Int32.max)") })
        #expect(problems("dedupe: { key: id, max_keys: 1 }").isEmpty)
        #expect(problems("sample: { key: id, rate: 1.5 }").contains { $0.contains("out of range") })
        #expect(problems("command: { run: [x], max_restarts: -1 }").contains { $0.contains("-1 is out of range 0...1000000") })
        #expect(problems("command: { run: [x], timeout: 0s }").contains { $0.contains("out of range 1ms...24h") })
        #expect(problems("limit: -1").contains { $0.contains("out of range") })
        #expect(problems("flatten:").isEmpty)
        #expect(problems("flatten: { arrays: nope }").contains { $0.contains("'nope' is not one of keep, index") })
    }
}
