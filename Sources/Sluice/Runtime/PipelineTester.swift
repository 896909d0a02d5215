import Foundation
import Logging
import SluiceCore
import SluiceIO

/// Runs a pipeline's test cases through the real runtime and says what differs.
///
/// Each case writes its input to a temporary directory, runs the pipeline over it with
/// one worker per stage (output does not depend on worker counts), and compares the
/// output records and error lines with what the case expects.
public struct PipelineTester {
    public struct Result: Sendable {
        public var name: String
        /// Empty when the case passed; otherwise what differs, one item per difference.
        public var differences: [String]
        public var passed: Bool { differences.isEmpty }
    }

    let config: PipelineConfig
    let logger: Logger

    public init(config: PipelineConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run(_ cases: [PipelineTestCase]) -> [Result] {
        cases.map(run)
    }

    func run(_ test: PipelineTestCase) -> Result {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("sluice-test-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: root) }
        let input = root.appendingPathComponent("input")
        let output = root.appendingPathComponent("output")
        var config = self.config
        do {
            try fm.createDirectory(at: input, withIntermediateDirectories: true)
            if let file = test.inputFile {
                let base = URL(fileURLWithPath: config.sourcePath).deletingLastPathComponent()
                let source = file.hasPrefix("/") ? URL(fileURLWithPath: file) : base.appendingPathComponent(file)
                try fm.copyItem(at: source, to: input.appendingPathComponent(source.lastPathComponent))
            } else {
                try Data((test.input.joined(separator: "\n") + "\n").utf8).write(to: input.appendingPathComponent("input.ndjson"))
            }
        } catch {
            return Result(name: test.name, differences: ["cannot prepare the input: \(error.localizedDescription)"])
        }
        config.input.include = []
        config.input.exclude = []
        config.errors.maxErrors = nil
        config.errors.maxErrorRate = nil
        config.commitEvery = nil   // one output file to compare, not checkpoint parts
        config.stages = config.stages.map { var s = $0; s.workers = 1; return s }
        // Test cases state the records the stages produce: one plain NDJSON output,
        // whatever format, layout or routes the config writes.
        config.output.spec = OutputSpec()
        config.output.routes = []
        let summary = PipelineRun(config: config, options: RunOptions(inputPath: input.path, outputPath: output.path, runID: "test"),
                                  logger: logger).run()
        guard summary.exitCode == 0, let outputPath = summary.outputs.first else {
            return Result(name: test.name, differences: ["the run failed: \(summary.failure ?? "exit \(summary.exitCode)")"])
        }
        var differences: [String] = []
        let records = Self.readRecords(outputPath, gzip: false)
        if let count = test.outputCount, count != records.count {
            differences.append("expected \(count) output records, got \(records.count)")
        }
        if let expected = test.output {
            differences += Self.diff(expected: expected, actual: records, what: "output record")
        }
        if let expected = test.errors {
            let lines = Self.readRecords(summary.errorReport, gzip: false)
            if lines.count != expected.count {
                differences.append("expected \(expected.count) error lines, got \(lines.count)")
            }
            for (i, (want, got)) in zip(expected, lines).enumerated() {
                for (field, value) in [("stage", want.stage), ("kind", want.kind), ("message", want.message), ("line", want.line.map(String.init))] {
                    guard let value else { continue }
                    let actual: String
                    switch got[field] {
                    case .string(let s)?: actual = s
                    case .int(let n)?: actual = String(n)
                    default: actual = "(none)"
                    }
                    if actual != value {
                        differences.append("error line \(i + 1): expected \(field) \(Self.text(.string(value))), got \(Self.text(.string(actual)))")
                    }
                }
            }
        }
        return Result(name: test.name, differences: differences)
    }

    /// Every NDJSON line of a file as a value.
    static func readRecords(_ path: String, gzip: Bool) -> [JSONValue] {
        var bytes: [UInt8] = []
        if gzip {
            let file = InputFile(relativePath: "output", path: path, size: 0, mtime: 0)
            var batches: [Batch] = []
            _ = FileReader.read(file, fileIndex: 0, options: ReadOptions(format: .ndjson)) { batches.append($0) }
            return batches.flatMap(values)
        }
        bytes = (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
        var batch = Batch(file: 0, index: 0, bytes: bytes)
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            if i > start { batch.records.append(RecordSlot(start: start, end: i, line: 0, offset: start)) }
            start = i + 1
        }
        return values(of: batch)
    }

    private static func values(of batch: Batch) -> [JSONValue] {
        var batch = batch
        var result: [JSONValue] = []
        for i in batch.records.indices {
            do {
                try batch.indexRecord(at: i, maxDepth: 10_000)
                let root = Int(batch.records[i].tapeStart)
                result.append(batch.withView { $0.materialize(root) })
            } catch {
                result.append(.string("<unparsable: \(error)>"))
            }
        }
        return result
    }

    /// Differences between two record lists, as readable lines.
    static func diff(expected: [JSONValue], actual: [JSONValue], what: String) -> [String] {
        var lines: [String] = []
        if expected.count != actual.count {
            lines.append("expected \(expected.count) \(what)s, got \(actual.count)")
        }
        for i in 0..<max(expected.count, actual.count) {
            let want = i < expected.count ? text(expected[i]) : "(none)"
            let got = i < actual.count ? text(actual[i]) : "(none)"
            if want != got {
                var entry = "\(what) \(i + 1):\n    - \(want)\n    + \(got)"
                if i < expected.count, i < actual.count {
                    let fields = fieldDifferences(normalized(expected[i]), normalized(actual[i]), path: "")
                    if !fields.isEmpty { entry += "\n" + fields.map { "      \($0)" }.joined(separator: "\n") }
                }
                lines.append(entry)
            }
        }
        return lines
    }

    /// What differs between two values, field by field (`total_cents: expected 1250, got
    /// 1251`; `note: expected "x", missing`), down through objects; arrays of another
    /// length, or values of another type, are one difference.
    static func fieldDifferences(_ want: JSONValue, _ got: JSONValue, path: String) -> [String] {
        let here = path.isEmpty ? "the record" : path
        switch (want, got) {
        case (.object(let a), .object(let b)):
            var lines: [String] = []
            let wanted = Dictionary(a.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            let present = Dictionary(b.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            for member in a {
                let child = path.isEmpty ? member.key : "\(path).\(member.key)"
                if let value = present[member.key] {
                    lines += fieldDifferences(member.value, value, path: child)
                } else {
                    lines.append("\(child): expected \(text(member.value)), missing")
                }
            }
            for member in b where wanted[member.key] == nil {
                let child = path.isEmpty ? member.key : "\(path).\(member.key)"
                lines.append("\(child): not expected, got \(text(member.value))")
            }
            if lines.isEmpty, a.map(\.key) != b.map(\.key) {
                lines.append("\(here): the same fields in another order: expected \(a.map(\.key)), got \(b.map(\.key))")
            }
            return lines
        case (.array(let a), .array(let b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { i, pair in fieldDifferences(pair.0, pair.1, path: "\(path)[\(i)]") }
        default:
            return text(want) == text(got) ? [] : ["\(here): expected \(text(want)), got \(text(got))"]
        }
    }

    static func text(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.write(normalized(value))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Integral doubles compare as integers (YAML `250.0` and JSON `250` are the same
    /// expectation); raw numbers as written.
    private static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return .int(Int64(d))
        case .array(let items): return .array(items.map(normalized))
        case .object(let members): return .object(members.map { JSONMember($0.key, normalized($0.value)) })
        default: return value
        }
    }
}
