import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Config messages in plain words, with the real place (or none) and what to do: the exact
/// text of each, so they cannot slide back into libyaml's or Foundation's internals.
@Suite struct ConfigMessageTests {
    static func problems(_ yaml: String, overrides: [String] = [], environment: [String: String] = [:]) -> [String] {
        do {
            _ = try PipelineConfig.parse(yaml: yaml, file: "c.yaml", overrides: overrides, environment: environment)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    static let base = "name: t\ninput: { path: /tmp }\noutput: { path: /tmp/o }\n"

    @Test func yamlSyntaxIsExplained() {
        #expect(Self.problems("name: t\ninput:\n\tpath: a\n") == [
            "c.yaml:3:1: a tab character: YAML indents with spaces only — replace the tab with spaces (invalid YAML: found character that cannot start any token)"])
        #expect(Self.problems("name: t\ninput:\n  path: a\n   format: ndjson\n") == [
            "c.yaml:4:10: a key is not expected here: check that this line's indentation lines up with the keys above it, and quote a value that contains ': ' (invalid YAML: mapping values are not allowed in this context)"])
        #expect(Self.problems("name: \"t\ninput: {path: a}\n") == [
            "c.yaml:3:1: a quoted string that starts on line 1 is never closed: add the closing quote (invalid YAML: found unexpected end of stream)"])
    }

    @Test func theWholeConfigHasAName() {
        #expect(Self.problems("- a\n- b\n") == ["c.yaml:1:1: the config: expected a mapping of keys (name:, input:, stages:, output:, ...), got list"])
    }

    @Test func aKeyAtTheWrongLevelNamesItsParent() {
        #expect(Self.problems(Self.base + "include: ['*.json']\n") == [
            "c.yaml:4:1: include: unknown key 'include' (did you mean 'input.include'? 'include' belongs under 'input'; check its indentation)"])
        // A near miss at the right level still wins.
        #expect(Self.problems(Self.base + "batch_sise: 4\n") == ["c.yaml:4:1: batch_sise: unknown key 'batch_sise' (did you mean 'batch_size'?)"])
    }

    @Test func onePassReportsDuplicatesBesideOtherProblems() {
        let yaml = Self.base + "stages:\n  - { name: a, filter: 'true' }\n  - { name: a, filter: 'x ==' }\n"
        let lines = Self.problems(yaml)
        #expect(lines.contains("c.yaml:6:5: stages[1]: duplicate stage name 'a'"))
        #expect(lines.contains { $0.contains("stages[1].filter:") })
    }

    @Test func strictIntegersWorkersAndDurations() {
        let yaml = Self.base + "shutdown_grace: 10\nstages:\n  - { limit: \"10\" }\n  - { filter: 'true', workers: many }\n"
        #expect(Set(Self.problems(yaml)) == [
            "c.yaml:4:17: shutdown_grace: '10' has no unit: write 10s (or 10ms, 10m, 10h)",
            "c.yaml:6:14: stages[0].limit: expected an integer, got the string \"10\" (write it without quotes)",
            "c.yaml:7:32: stages[1].workers: expected an integer 1–256 or 'auto' (one per core), got 'many'",
        ])
        // A value from the environment is typed by its content, quoted or not.
        #expect(Self.problems(Self.base + "batch_size: \"${N}\"\n", environment: ["N": "64"]) == [])
    }

    @Test func setArgumentsAreNamedAndNullClears() throws {
        #expect(Self.problems(Self.base + "batch_size: 4\n", overrides: ["batch_size=lots"]) == [
            "--set batch_size=lots: batch_size: expected an integer, got scalar 'lots'"])
        let config = try PipelineConfig.parse(yaml: Self.base + "batch_size: 4\n", file: "c.yaml", overrides: ["batch_size=null"])
        #expect(config.batchSize == ConfigSchema.Top.batchSize.defaultValue)
    }

    @Test func unreadableConfigFiles() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-msg-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func message(_ path: String) -> String {
            do {
                _ = try PipelineConfig.load(path: path)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message(dir.path) == "\(dir.path): is a directory; give the pipeline's YAML file (e.g. \(dir.path)/NAME.yaml), or write one with `sluice init DIR`")
        #expect(message(dir.appendingPathComponent("nope.yaml").path).hasPrefix("\(dir.path)/nope.yaml: no such config file (looked for "))
        #expect(!message(dir.path).contains("NSCocoaErrorDomain"))
    }
}
