import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The config's JSON Schema and docs/config.md are generated from ``ConfigSchema``;
/// these tests keep the committed copies current and the loader true to the table.
@Suite struct ConfigSchemaTests {
    static let generated: [(String, String)] = [
        ("sluice.schema.json", ConfigSchema.jsonSchema),
        ("config.md", ConfigSchema.markdown),
    ]

    @Test(arguments: generated.map(\.0)) func committedCopyIsCurrent(file: String) throws {
        let text = Self.generated.first { $0.0 == file }!.1
        let url = TestSupport.packageRoot.appendingPathComponent("docs/\(file)")
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_DOCS"] == "1" {
            try Data(text.utf8).write(to: url)
        }
        let committed = String(decoding: TestSupport.read(url), as: UTF8.self)
        #expect(committed == text, "docs/\(file) is stale: run SLUICE_UPDATE_DOCS=1 swift test --filter ConfigSchema")
    }

    @Test func schemaIsValidJSONWithEveryTopKey() throws {
        let object = try JSONSerialization.jsonObject(with: Data(ConfigSchema.jsonSchema.utf8)) as? [String: Any]
        let properties = object?["properties"] as? [String: Any]
        #expect(Set(properties?.keys.map { $0 } ?? []) == Set(ConfigSchema.top.map(\.name)))
        #expect((object?["required"] as? [String]) == ["name", "input", "output"])
    }

    /// A minimal config with `value` set at `path` (a dotted key path).
    static func config(setting path: String, to value: String) -> String {
        if path.hasPrefix("input.xml.") {
            return "name: t\ninput: { path: in, xml: { \(path.dropFirst(10)): \(value) } }\noutput: { path: out }\n"
        }
        return "name: t\ninput: { path: in }\noutput: { path: out }\n"
            .replacingOccurrences(of: "input: { path: in }", with: path.hasPrefix("input.") ? "input: { path: in, \(path.dropFirst(6)): \(value) }" : "input: { path: in }")
            .replacingOccurrences(of: "output: { path: out }", with: path.hasPrefix("output.") ? "output: { path: out, \(path.dropFirst(7)): \(value) }" : "output: { path: out }")
            + (path.hasPrefix("errors.") ? "errors: { \(path.dropFirst(7)): \(value) }\n" : "")
            + (path.hasPrefix("defaults.") ? "defaults: { \(path.dropFirst(9)): \(value) }\n" : "")
            + (!path.contains(".") ? "\(path): \(value)\n" : "")
    }

    static var checkedKeys: [(String, ConfigType)] {
        var keys: [(String, ConfigType)] = []
        for (prefix, list) in [("", ConfigSchema.top), ("input.", ConfigSchema.input), ("input.xml.", ConfigSchema.xml), ("output.", ConfigSchema.output),
                               ("errors.", ConfigSchema.errors), ("defaults.", ConfigSchema.defaults)] {
            for key in list where key.name != "path" { keys.append((prefix + key.name, key.type)) }
        }
        return keys
    }

    /// For every integer range and every choice the table states, the loader accepts the
    /// edges and the choices and refuses what lies outside.
    @Test func loaderAcceptsAndRefusesWhatTheTableStates() {
        func accepts(_ path: String, _ value: String) -> Bool {
            (try? PipelineConfig.parse(yaml: Self.config(setting: path, to: value))) != nil
        }
        var checked = 0
        for (path, type) in Self.checkedKeys {
            switch type {
            case .integer(let range):
                #expect(accepts(path, String(range.lowerBound)), "\(path) = \(range.lowerBound)")
                #expect(!accepts(path, String(range.lowerBound - 1)), "\(path) = \(range.lowerBound - 1)")
                if range.upperBound < Int.max {
                    #expect(accepts(path, String(range.upperBound)), "\(path) = \(range.upperBound)")
                    #expect(!accepts(path, String(range.upperBound + 1)), "\(path) = \(range.upperBound + 1)")
                }
                checked += 1
            case .choice(let words):
                // Some choices need a companion key to be complete.
                let companions = ["output.format=csv": ", columns: [id]", "output.format=parquet": ", parquet: { schema: [{ name: id, type: int64 }] }", "output.layout=partitioned": ", partition_by: [id]"]
                for word in words { #expect(accepts(path, word + (companions["\(path)=\(word)"] ?? "")), "\(path) = \(word)") }
                #expect(!accepts(path, "bogus"), "\(path) = bogus")
                checked += 1
            case .byteSize(let range):
                #expect(accepts(path, String(range.lowerBound)), "\(path) = \(range.lowerBound)")
                #expect(!accepts(path, String(range.lowerBound - 1)), "\(path) = \(range.lowerBound - 1)")
                checked += 1
            case .number(let range):
                #expect(accepts(path, String(range.upperBound)), "\(path)")
                #expect(!accepts(path, String(range.upperBound + 1)), "\(path)")
                checked += 1
            default:
                break
            }
        }
        #expect(checked >= 16)
    }
}
