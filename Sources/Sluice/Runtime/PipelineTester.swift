import Foundation
import Logging

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
                        differences.append("error line \(i + 1): expected \(field) \(value.debugDescription), got \(actual.debugDescription)")
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
                lines.append("\(what) \(i + 1):\n    - \(want)\n    + \(got)")
            }
        }
        return lines
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
