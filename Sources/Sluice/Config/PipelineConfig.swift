import Foundation
import Yams

/// A pipeline config, checked and ready to run: every value typed, every expression
/// compiled, every stage built.
///
/// Load one with ``PipelineConfig/load(path:)`` or ``PipelineConfig/parse(yaml:file:)``;
/// both collect every problem in the file before failing with a ``ConfigError``.
public struct PipelineConfig: Sendable {
    /// The pipeline's name; output files are named after it.
    public var name: String
    public var input: InputConfig
    /// Records per batch: the unit that crosses queues (default 1024).
    public var batchSize: Int
    public var stages: [StageSpec]
    public var output: OutputConfig
    public var errors: ErrorsConfig
    /// The config file's path ("" for inline text).
    public var sourcePath: String
    /// Where some values were written (`input.path` → line and column), for checks made
    /// after loading, such as ``checkReferences()``.
    public var locations: [String: ConfigLocation] = [:]
    /// Test cases declared under `tests:` (see ``PipelineTestCase``).
    public var tests: [PipelineTestCase] = []
    /// `shutdown_grace`: seconds that files in flight get to finish after SIGINT/SIGTERM
    /// (default 30); past it the run stops them and commits only the finished files.
    public var shutdownGrace: Double = 30
}

/// A line and column in a config file (1-based).
public struct ConfigLocation: Sendable, Equatable {
    public var line: Int
    public var column: Int
}

/// `input:` — where records come from.
public struct InputConfig: Sendable {
    /// Directory searched recursively (relative paths resolve against the working directory).
    public var path: String
    /// Globs over the path relative to `path` (`**` spans directories); default: every file.
    public var include: [String]
    /// Globs of files to leave out, applied after `include`.
    public var exclude: [String]
    /// `auto` (by extension, then first byte), `ndjson`, `json` or `xml`.
    public var format: InputFormat
    /// Files read at once (default 2).
    public var readers: Int
    /// A record longer than this is an error of kind `limit` (default 16 MiB).
    public var maxRecordBytes: Int
    /// Nesting deeper than this is a parse error (default 512).
    public var maxDepth: Int
    /// A batch is closed early once its records' text passes this size (default 4 MiB);
    /// with `max_record_bytes` it bounds the bytes of one batch.
    public var maxBatchBytes: Int = 4 << 20
    /// Ledger, retry and post-action keys (see ``IncrementalConfig``).
    public var incremental = IncrementalConfig()
    /// How XML files map to records (`input.xml`).
    public var xml: XMLOptions = XMLOptions()
    /// Decoder limits for compressed input (`input.max_window`).
    public var codecs = CodecOptions()
}

/// `errors:` — the error report and the run's failure threshold.
public struct ErrorsConfig: Sendable {
    /// Error report path, relative to the output directory (default `errors.ndjson`).
    public var path: String
    /// Failed records / records read above which the run exits 1 (default: no limit).
    public var maxErrorRate: Double?
    /// Error lines above which the run exits 1 (default: no limit).
    public var maxErrors: Int?
}

/// One configured stage: its name, sizing and the built stage.
public struct StageSpec: Sendable {
    public var name: String
    /// The stage kind (`filter`, `validate`, `select`, ...).
    public var kind: String
    /// Worker threads (default 2).
    public var workers: Int
    /// Capacity of the stage's input queue, in batches (default 8).
    public var queue: Int
    public var stage: any Stage
    /// What happens to records the stage fails (`on_error`, default `report`).
    public var onError: StageErrorPolicy

    public init(name: String, kind: String, workers: Int, queue: Int, stage: any Stage, onError: StageErrorPolicy = .report) {
        self.name = name
        self.kind = kind
        self.workers = workers
        self.queue = queue
        self.stage = stage
        self.onError = onError
    }
}

/// `on_error:` of a stage — what happens to a record the stage fails.
public enum StageErrorPolicy: String, Sendable, CaseIterable {
    /// The record goes to the error report; the run goes on.
    case report
    /// The record is removed and counted (`dropped` in the summary), with no error line.
    case drop
    /// The run stops with exit 1, naming the stage and the error.
    case fail
}

extension PipelineConfig {
    // Allowed keys come from the declarative table that also makes the JSON Schema
    // and docs/config.md.
    static let topKeys = ConfigSchema.names(ConfigSchema.top)
    static let inputKeys = ConfigSchema.names(ConfigSchema.input)
    static let defaultsKeys = ConfigSchema.names(ConfigSchema.defaults)
    static let outputKeys = ConfigSchema.names(ConfigSchema.output)
    static let errorsKeys = ConfigSchema.names(ConfigSchema.errors)
    static let stageCommonKeys = ConfigSchema.names(ConfigSchema.stageCommon)

    /// Reads and checks the config file at `path`.
    ///
    /// - Parameters:
    ///   - overrides: `--set key.path=value` overrides, applied after interpolation.
    ///   - environment: values for `${VAR}` and `${VAR:-default}` in string values.
    /// - Throws: ``ConfigError`` with every problem found, each with line and column.
    public static func load(path: String, overrides: [String] = [],
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> PipelineConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: path, line: 0, column: 0, message: "cannot read config: \(error.localizedDescription)")])
        }
        return try parse(yaml: text, file: path, overrides: overrides, environment: environment)
    }

    /// Checks config text; `file` names it in messages.
    public static func parse(yaml: String, file: String = "", overrides: [String] = [],
                             environment: [String: String] = [:]) throws(ConfigError) -> PipelineConfig {
        let diagnostics = ConfigDiagnostics(file: file)
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(problems: [yamlProblem(error, file: file)])
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: file, line: 0, column: 0, message: "invalid YAML: \(error)")])
        }
        guard let root else {
            throw ConfigError(problems: [ConfigProblem(file: file, line: 1, column: 1, message: "the config is empty")])
        }
        var tree = ConfigPreprocessing.interpolate(root, environment: environment, diagnostics: diagnostics)
        tree = ConfigPreprocessing.applyOverrides(overrides, to: tree, diagnostics: diagnostics)
        let config = build(ConfigNode(node: tree, path: "", diagnostics: diagnostics), file: file)
        if !diagnostics.problems.isEmpty || config == nil {
            var problems = diagnostics.problems
            if problems.isEmpty { problems = [ConfigProblem(file: file, line: 0, column: 0, message: "invalid config")] }
            throw ConfigError(problems: problems)
        }
        return config!
    }

    static func yamlProblem(_ error: YamlError, file: String) -> ConfigProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigProblem(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        default:
            return ConfigProblem(file: file, line: 0, column: 0, message: "invalid YAML: \(error)")
        }
    }

    private static func build(_ root: ConfigNode, file: String) -> PipelineConfig? {
        guard let top = root.mapping(allowed: topKeys) else { return nil }
        func require(_ key: String) -> ConfigNode? {
            if let node = top[key] { return node }
            root.diagnostics.report("missing required key '\(key)'", at: root.mark)
            return nil
        }
        let name = require("name")?.string()
        if let name, name.isEmpty || name.contains("/") {
            top["name"]?.report("must be a non-empty name without '/'")
        }
        let batchSize = top["batch_size"].map { $0.int(in: 1...1_000_000) } ?? 1024
        let input = require("input").flatMap(buildInput)
        let output = require("output").flatMap(buildOutput)
        let errors = top["errors"].map(buildErrors) ?? ErrorsConfig(path: "errors.ndjson", maxErrorRate: nil, maxErrors: nil)

        var defaults = StageDefaults()
        if let node = top["defaults"], let map = node.mapping(allowed: defaultsKeys) {
            if let workers = map["workers"].flatMap(workerCount) { defaults.workers = workers }
            if let queue = map["queue"].flatMap({ $0.int(in: 1...65_536) }) { defaults.queue = queue }
        }
        var stages: [StageSpec] = []
        if let list = top["stages"], !list.isNull, let items = list.sequence() {
            var names: Set<String> = []
            for (i, item) in items.enumerated() {
                if let spec = buildStage(item, index: i, defaults: defaults) {
                    if !names.insert(spec.name).inserted {
                        item.report("duplicate stage name '\(spec.name)'")
                    }
                    stages.append(spec)
                }
            }
        }
        let grace = top["shutdown_grace"].map { $0.duration() } ?? 30
        guard let name, let batchSize, let input, let output, let errors, let grace else { return nil }
        var config = PipelineConfig(name: name, input: input, batchSize: batchSize, stages: stages, output: output, errors: errors,
                                    sourcePath: file, shutdownGrace: grace)
        config.tests = top["tests"].map(PipelineTestCase.parseList) ?? []
        for (key, node) in [("input.path", top["input"]?.mapping(allowed: inputKeys, quiet: true)?["path"]),
                            ("output.path", top["output"]?.mapping(allowed: outputKeys, quiet: true)?["path"])] {
            if let mark = node?.mark { config.locations[key] = ConfigLocation(line: mark.line, column: mark.column) }
        }
        return config
    }

    private static func buildInput(_ node: ConfigNode) -> InputConfig? {
        guard let map = node.mapping(allowed: inputKeys) else { return nil }
        guard let pathNode = map["path"] else {
            node.report("missing required key 'path'")
            return nil
        }
        let path = pathNode.string()
        let include = map["include"].map { $0.stringList() } ?? []
        let exclude = map["exclude"].map { $0.stringList() } ?? []
        let formatName = map["format"].map { $0.choice(["auto", "ndjson", "json", "xml"]) } ?? "auto"
        let readers = map["readers"].map { $0.int(in: 1...256) } ?? 2
        let maxRecord = map["max_record_bytes"].map { $0.byteSize(in: 16...(1 << 30)) } ?? (16 << 20)
        let maxDepth = map["max_depth"].map { $0.int(in: 1...100_000) } ?? 512
        let maxBatchBytes = map["max_batch_bytes"].map { $0.byteSize(in: 1024...(1 << 30)) } ?? (4 << 20)
        let xml = map["xml"].map(buildXML) ?? XMLOptions()
        let maxWindow = map["max_window"].map { $0.byteSize(in: (1 << 20)...(1 << 31)) } ?? CodecOptions.defaultMaxWindow
        if let include, let exclude {
            do {
                _ = try DirectoryScanner(root: "", include: include, exclude: exclude)
            } catch {
                (map["include"] ?? map["exclude"] ?? node).report("\(error)")
            }
        }
        let incremental = IncrementalConfig.build(map)
        guard let path, let include, let exclude, let formatName, let format = InputFormat(rawValue: formatName),
              let readers, let maxRecord, let maxDepth, let maxBatchBytes, let incremental, let xml, let maxWindow else { return nil }
        return InputConfig(path: path, include: include, exclude: exclude, format: format, readers: readers,
                           maxRecordBytes: maxRecord, maxDepth: maxDepth, maxBatchBytes: maxBatchBytes, incremental: incremental, xml: xml,
                           codecs: CodecOptions(maxWindow: maxWindow))
    }

    private static func buildOutput(_ node: ConfigNode) -> OutputConfig? {
        OutputConfig.build(node)
    }

    private static func buildErrors(_ node: ConfigNode) -> ErrorsConfig? {
        guard let map = node.mapping(allowed: errorsKeys) else { return nil }
        let path = map["path"].map { $0.string() } ?? "errors.ndjson"
        var rate: Double?? = .some(nil)
        if let n = map["max_error_rate"] { rate = n.double(in: 0...1).map { .some($0) } }
        var count: Int?? = .some(nil)
        if let n = map["max_errors"] { count = n.int(in: 0...Int.max).map { .some($0) } }
        guard let path, let rate, let count else { return nil }
        if path.isEmpty || path.hasSuffix("/") { map["path"]?.report("must name a file") }
        return ErrorsConfig(path: path, maxErrorRate: rate, maxErrors: count)
    }

    /// `defaults:` — sizing for stages that do not set their own.
    struct StageDefaults {
        var workers = 2
        var queue = 8
    }

    /// A worker count: a number, or `auto` for the number of cores.
    static func workerCount(_ node: ConfigNode) -> Int? {
        if node.node.scalar?.string == "auto" { return ProcessInfo.processInfo.activeProcessorCount }
        return node.int(in: 1...256)
    }

    private static func buildStage(_ node: ConfigNode, index: Int, defaults: StageDefaults) -> StageSpec? {
        let kindNames = StageRegistry.kinds.map(\.name)
        guard let map = node.mapping(allowed: stageCommonKeys + kindNames) else { return nil }
        let kinds = kindNames.filter { map[$0] != nil }
        let name = map["name"].map { $0.string() } ?? "\(kinds.first ?? "stage")-\(index + 1)"
        let workers = map["workers"].map(workerCount) ?? defaults.workers
        let queue = map["queue"].map { $0.int(in: 1...65_536) } ?? defaults.queue
        let onError = map["on_error"].map { $0.choice(StageErrorPolicy.allCases.map(\.rawValue)) } ?? "report"
        guard kinds.count == 1, let kindName = kinds.first, let kind = StageRegistry.kind(named: kindName) else {
            if kinds.isEmpty {
                node.report("a stage needs one of: \(kindNames.joined(separator: ", "))")
            } else {
                node.report("a stage has exactly one kind, found \(kinds.joined(separator: " and "))")
            }
            return nil
        }
        guard let name, let workers, let queue, let onError, let policy = StageErrorPolicy(rawValue: onError) else { return nil }
        guard let stage = kind.make(map[kindName]!, name) else { return nil }
        return StageSpec(name: name, kind: kindName, workers: workers, queue: queue, stage: stage, onError: policy)
    }
}

extension PipelineConfig {
    /// Checks what the config refers to outside itself — today the input directory —
    /// as `sluice validate` does; a run reports the same conditions as fatal I/O errors.
    public func checkReferences(inputPath: String? = nil) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let path = inputPath ?? input.path
        var isDirectory: ObjCBool = false
        let place = locations["input.path"] ?? ConfigLocation(line: 0, column: 0)
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            problems.append(ConfigProblem(file: sourcePath, line: place.line, column: place.column,
                                          message: "input.path: directory '\(path)' does not exist"))
        } else if !isDirectory.boolValue {
            problems.append(ConfigProblem(file: sourcePath, line: place.line, column: place.column,
                                          message: "input.path: '\(path)' is not a directory"))
        }
        return problems
    }
}

extension PipelineConfig {
    /// The stages as they run: the configured ones, or one pass-through stage when the
    /// config has none (parsing and encoding happen inside stage workers).
    public var effectiveStages: [StageSpec] {
        stages.isEmpty
            ? [StageSpec(name: "passthrough", kind: "passthrough", workers: 2, queue: 8, stage: PassThroughStage())]
            : stages
    }

    /// How this config will run.
    public var plan: PipelinePlan { PipelinePlan(config: self, stages: effectiveStages) }
}

extension PipelineConfig {
    /// Test cases from a sibling `NAME.tests.yaml` (a mapping with a `tests:` list).
    public static func loadTests(path: String) throws(ConfigError) -> [PipelineTestCase] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: path, line: 0, column: 0, message: "cannot read tests: \(error.localizedDescription)")])
        }
        let diagnostics = ConfigDiagnostics(file: path)
        var tests: [PipelineTestCase] = []
        do {
            if let root = try Yams.compose(yaml: text) {
                let node = ConfigNode(node: root, path: "", diagnostics: diagnostics)
                if let map = node.mapping(allowed: ["tests"]), let list = map["tests"] {
                    tests = PipelineTestCase.parseList(list)
                }
            }
        } catch let error as YamlError {
            throw ConfigError(problems: [yamlProblem(error, file: path)])
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: path, line: 0, column: 0, message: "invalid YAML: \(error)")])
        }
        if !diagnostics.problems.isEmpty { throw ConfigError(problems: diagnostics.problems) }
        return tests
    }
}
