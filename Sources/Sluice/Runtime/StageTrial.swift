import Foundation
import Logging

/// One stage, given as YAML, run on records through the real runtime, as
/// `sluice eval --stage` does: what a stage makes of a handful of records, without a
/// config file, an input directory or a ledger.
///
/// The stage text is one entry of a config's `stages:` list (`filter: 'total > 10'`, or a
/// mapping with `name`, `workers`, ...). It runs in a pipeline of its own over the records
/// as one NDJSON file, with no error threshold; the result is the output records and the
/// error lines, both as the JSON text the run wrote.
///
/// ```swift
/// let trial = try StageTrial(stage: "validate: { required: [id] }")
/// let result = trial.run(records: [#"{"id": 1}"#, #"{}"#])
/// // result.records == [#"{"id":1}"#]; result.errors.count == 1
/// ```
public struct StageTrial: Sendable {
    /// What the stage made of the records.
    public struct Result: Sendable, Equatable {
        /// Output records, as compact JSON text, in order.
        public var records: [String]
        /// Error lines as the error report holds them (`{"file": ..., "stage": ...}`).
        public var errors: [String]
        /// Set when the run itself failed (a `command` stage that cannot start, ...).
        public var failure: String?
    }

    /// The file name error lines and config messages use for the stage text.
    public static let sourceName = "--stage"
    private static let header = ["name: eval", "input: { path: ., format: ndjson }"]
    private let config: PipelineConfig

    /// Builds the stage from its YAML text.
    ///
    /// - Throws: ``ConfigError`` whose problems are placed in the stage text (its line and
    ///   column), as `--stage:LINE:COLUMN: message`.
    public init(stage yaml: String) throws(ConfigError) {
        var lines = Self.header
        lines.append("stages:")
        let stageLines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in stageLines.enumerated() {
            lines.append((i == 0 ? "  - " : "    ") + line)
        }
        let stagesStart = lines.count - stageLines.count
        lines.append("output: { path: ., format: ndjson, compression: none }")
        lines.append("errors: { path: errors.ndjson }")
        do {
            config = try PipelineConfig.parse(yaml: lines.joined(separator: "\n") + "\n", file: Self.sourceName)
        } catch {
            throw ConfigError(problems: error.problems.map { problem in
                var p = problem
                let line = p.line - stagesStart
                if line >= 1, line <= stageLines.count {
                    p.line = line
                    p.column = max(1, p.column - 4)
                } else {
                    p.line = 0
                    p.column = 0
                }
                return p
            })
        }
        guard config.stages.count == 1 else {
            throw ConfigError(problems: [ConfigProblem(file: Self.sourceName, line: 1, column: 1,
                                                       message: "expected one stage, found \(config.stages.count)")])
        }
    }

    /// Runs the stage over `records` (JSON texts, one per record).
    public func run(records: [String], logger given: Logger? = nil) -> Result {
        // By default warnings only: `sluice eval` prints records and error lines, not the
        // run's per-file info lines.
        var logger = given ?? Logger(label: "sluice.eval")
        if given == nil { logger.logLevel = .warning }
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("sluice-eval-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: root) }
        let input = root.appendingPathComponent("input")
        let output = root.appendingPathComponent("output")
        do {
            try fm.createDirectory(at: input, withIntermediateDirectories: true)
            let text = records.joined(separator: "\n") + (records.isEmpty ? "" : "\n")
            try Data(text.utf8).write(to: input.appendingPathComponent("records.ndjson"))
        } catch {
            return Result(records: [], errors: [], failure: "cannot write the records to a temporary file: \(error.localizedDescription)")
        }
        var config = config
        config.input.include = []
        config.input.exclude = []
        let summary = PipelineRun(config: config,
                                  options: RunOptions(inputPath: input.path, outputPath: output.path, runID: "eval"),
                                  logger: logger).run()
        let outputs = summary.outputs.flatMap(Self.lines(of:))
        let errors = Self.lines(of: summary.errorReport)
        let failure = summary.exitCode == 0 ? nil : (summary.failure ?? "the run exited \(summary.exitCode)")
        return Result(records: outputs, errors: errors, failure: failure)
    }

    private static func lines(of path: String) -> [String] {
        guard !path.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}
