import Foundation
import Testing
import Yams
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// What every stage kind in ``StageRegistry/kinds`` must do, checked for each kind from
/// its own declaration (no list of kinds here: a new kind is covered when it is
/// registered): its example builds and runs; the output and the error report are
/// byte-identical with 1 worker and with 4; every error line is well-formed; and its
/// declared keys are the ones docs/stages.md and the JSON Schema state.
@Suite(.serialized) struct StageComplianceTests {
    static let kinds = StageRegistry.kinds.map(\.name)

    /// Order records over three files, with records each kind may fail on: a total that
    /// is a string, items that are not an array, and a line that is not JSON.
    static func makeInput() throws -> URL {
        let dir = TestSupport.temporaryDirectory("sluice-compliance")
        let countries = ["DE", "FR", "XX", "IT"]
        for file in 0..<3 {
            var lines: [String] = []
            for i in 0..<400 {
                let id = file * 1000 + i
                let status = i % 7 == 3 ? "cancelled" : "paid"
                let total = i % 17 == 5 ? "\"abc\"" : "\(i % 300).25"
                let items = i % 23 == 7 ? "\"none\"" : "[{\"sku\":\"S\(i)\",\"price\":\(i % 50).5},{\"sku\":\"T\(i)\",\"price\":1}]"
                if i % 29 == 11 {
                    lines.append("{\"id\": \(id), \"total\": ")
                    continue
                }
                lines.append("{\"id\":\(id),\"status\":\"\(status)\",\"customer\":{\"id\":\"c-\(i % 37)\",\"country\":\"\(countries[i % 4])\"},\"items\":\(items),\"total\":\(total),\"a.b\":\(i)}")
            }
            try TestSupport.write(lines.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("part-\(file).ndjson"))
        }
        return dir
    }

    /// A one-stage pipeline running `kind`'s example; relative paths in it start at the
    /// package root (as the config file named here would).
    static func config(kind: StageKind, workers: Int, queue: Int) throws -> PipelineConfig {
        try PipelineConfig.parse(yaml: """
            name: compliance
            input: { path: unused, format: ndjson }
            batch_size: 16
            stages:
              - name: under-test
                \(kind.name): \(kind.example)
                workers: \(workers)
                queue: \(queue)
            output: { path: unused }
            """, file: TestSupport.packageRoot.appendingPathComponent("compliance.yaml").path)
    }

    static var hasPython: Bool {
        ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(arguments: kinds) func outputDoesNotDependOnWorkerCounts(kindName: String) throws {
        let kind = try #require(StageRegistry.kind(named: kindName))
        if kind.name == CommandStage.kind && !Self.hasPython {
            print("note: skipping the command stage's compliance run: python3 is not installed")
            return
        }
        let input = try Self.makeInput()
        defer { TestSupport.cleanup(input) }
        var results: [(output: [UInt8], errors: [UInt8], summary: RunSummary)] = []
        for (workers, queue) in [(1, 1), (4, 3)] {
            let out = TestSupport.temporaryDirectory("sluice-compliance-out")
            defer { TestSupport.cleanup(out) }
            let summary = TestSupport.run(try Self.config(kind: kind, workers: workers, queue: queue), input: input, output: out)
            #expect(summary.exitCode == 0, "\(kind.name) with \(workers) workers: \(summary.failure ?? "")")
            results.append((TestSupport.read(out.appendingPathComponent("compliance-test.ndjson")),
                            TestSupport.read(out.appendingPathComponent("errors-test.ndjson")), summary))
        }
        #expect(!results[0].output.isEmpty, "\(kind.name) wrote no records")
        #expect(results[0].output == results[1].output, "\(kind.name): output differs between 1 and 4 workers")
        #expect(results[0].errors == results[1].errors, "\(kind.name): error report differs between 1 and 4 workers")
        #expect(results[0].summary.records == results[1].summary.records, "\(kind.name)")
        try Self.checkErrorLines(results[0].errors, kind: kind.name)
    }

    /// Every line is one JSON object with the report's fields: a file, the stage (or
    /// none for a file-level error), a known kind, a message, a line number when there
    /// is one, and the record.
    static func checkErrorLines(_ report: [UInt8], kind: String) throws {
        let lines = String(decoding: report, as: UTF8.self).split(separator: "\n")
        #expect(!lines.isEmpty, "\(kind): the input has a line that is not JSON, so the report cannot be empty")
        let kinds: Set<String> = ["parse", "validation", "transform", "io", "timeout", "limit"]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(kind): \(line)")
            #expect((object["file"] as? String)?.hasPrefix("part-") == true, "\(kind): \(line)")
            #expect(kinds.contains(object["kind"] as? String ?? ""), "\(kind): \(line)")
            #expect(!(object["message"] as? String ?? "").isEmpty, "\(kind): \(line)")
            #expect(object["record"] != nil, "\(kind): \(line)")
            if let stage = object["stage"] as? String, !stage.isEmpty, object["kind"] as? String != "parse" {
                #expect(stage == "under-test", "\(kind): \(line)")
            }
            if let number = object["line"] { #expect((number as? Int ?? 0) >= 1, "\(kind): \(line)") }
        }
    }

    @Test(arguments: kinds) func declaredKeysAreTheDocumentedKeys(kindName: String) throws {
        let kind = try #require(StageRegistry.kind(named: kindName))
        // docs/stages.md: the kind's section lists exactly its declared keys.
        let docs = ReferenceDocs.stages
        let start = try #require(docs.range(of: "\n## \(kind.name)\n"), "\(kind.name) has no section in docs/stages.md")
        let section = docs[start.upperBound...].components(separatedBy: "\n## ").first ?? ""
        let documented = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        }
        #expect(documented == kind.keys.map(\.name), "\(kind.name)")
        #expect(section.contains("- \(kind.name): \(kind.example)"), "\(kind.name): the example is not in the docs")
        for key in kind.keys {
            let row = section.split(separator: "\n").first { $0.hasPrefix("| `\(key.name)` |") } ?? ""
            #expect(!row.isEmpty, "\(kind.name).\(key.name) has no row")
            #expect(row.contains("Required.") == key.isRequired, "\(kind.name).\(key.name): \(row)")
            if let value = key.defaultValue { #expect(row.contains("Default: `\(value)`."), "\(kind.name).\(key.name): \(row)") }
        }
        // The JSON Schema: the kind's properties and required keys are the declared ones.
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(ConfigSchema.jsonSchema.utf8)) as? [String: Any])
        let stage = ((schema["properties"] as? [String: Any])?["stages"] as? [String: Any])?["items"] as? [String: Any]
        var entry = try #require((stage?["properties"] as? [String: Any])?[kind.name] as? [String: Any], "\(kind.name) is not in the schema")
        if kind.acceptsNull, let shapes = entry["oneOf"] as? [[String: Any]], let mapping = shapes.last { entry = mapping }
        if case .mapping = kind.value.type {
            #expect(Set((entry["properties"] as? [String: Any])?.keys.map { $0 } ?? []) == Set(kind.keys.map(\.name)), "\(kind.name)")
            #expect(Set(entry["required"] as? [String] ?? []) == Set(kind.keys.filter(\.isRequired).map(\.name)), "\(kind.name)")
        }
    }

    /// For every integer range and choice a kind declares, the loader accepts the edges
    /// and the words and refuses what lies outside (the example supplies the other keys).
    @Test(arguments: kinds) func loaderAppliesTheDeclaredRanges(kindName: String) throws {
        let kind = try #require(StageRegistry.kind(named: kindName))
        guard case .mapping(let keys) = kind.value.type, kind.example.hasPrefix("{") else { return }
        let example = try #require(try Yams.load(yaml: kind.example) as? [String: Any], "\(kind.name): the example is not a mapping")
        /// Whether the loader's range or choice check lets the example with `key` set to
        /// `value` (YAML) through (a stage's own later check, such as a reference file
        /// holding more rows than `max_rows: 1`, does not count).
        func accepts(_ key: String, _ value: String) -> Bool {
            var stage = example
            stage[key] = try? Yams.load(yaml: value)
            guard let json = try? JSONSerialization.data(withJSONObject: stage, options: [.sortedKeys]) else { return false }
            let yaml = "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - \(kind.name): \(String(decoding: json, as: UTF8.self))\n"
            do {
                _ = try PipelineConfig.parse(yaml: yaml, file: TestSupport.packageRoot.appendingPathComponent("c.yaml").path)
                return true
            } catch {
                return !error.problems.contains { $0.message.contains("\(kind.name).\(key): ") && ($0.message.contains("out of range") || $0.message.contains("is not one of")) }
            }
        }
        for key in keys {
            switch key.type {
            case .integer(let range):
                #expect(accepts(key.name, String(range.lowerBound)), "\(kind.name).\(key.name) = \(range.lowerBound)")
                #expect(!accepts(key.name, String(range.lowerBound - 1)), "\(kind.name).\(key.name) = \(range.lowerBound - 1)")
                if range.upperBound < Int.max {
                    #expect(accepts(key.name, String(range.upperBound)), "\(kind.name).\(key.name) = \(range.upperBound)")
                    #expect(!accepts(key.name, String(range.upperBound + 1)), "\(kind.name).\(key.name) = \(range.upperBound + 1)")
                }
            case .number(let range) where range.upperBound < Double.greatestFiniteMagnitude:
                #expect(accepts(key.name, String(range.upperBound)), "\(kind.name).\(key.name)")
                #expect(!accepts(key.name, String(range.upperBound + 1)), "\(kind.name).\(key.name)")
            case .choice(let words):
                for word in words {
                    #expect(accepts(key.name, word), "\(kind.name).\(key.name) = \(word)")
                }
                #expect(!accepts(key.name, "bogus"), "\(kind.name).\(key.name) = bogus")
            default:
                break
            }
        }
    }

    /// The example in the docs builds, and `kind: {}`-style mistakes are reported, never crash.
    @Test(arguments: kinds) func badValuesAreReportedNotFatal(kindName: String) {
        for bad in ["{}", "[]", "null", "'x'", "{ bogus: 1 }", "[[1]]"] {
            let yaml = "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - \(kindName): \(bad)\n"
            do {
                _ = try PipelineConfig.parse(yaml: yaml)
            } catch {
                #expect(!error.problems.isEmpty)
                #expect(error.problems.allSatisfy { $0.line > 0 && !$0.message.isEmpty }, "\(kindName): \(bad): \(error.problems)")
            }
        }
    }
}
