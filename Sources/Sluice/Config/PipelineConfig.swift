import Foundation
import Yams
import SluiceCore
import SluiceStages
import SluiceIO

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
    public var shutdownGrace: Double = ConfigSchema.Top.shutdownGrace.defaultValue!
    /// `commit_every`: checkpoints during the run (nil: commit at the end only).
    public var commitEvery: CommitEvery?
}

/// A line and column in a config file (1-based).
public struct ConfigLocation: Sendable, Equatable {
    public var line: Int
    public var column: Int
}

/// `input:` — where records come from.
public struct InputConfig: Sendable {
    /// Directory searched recursively (relative in a config file: against the file's directory).
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
    public var maxBatchBytes: Int = ConfigSchema.Input.maxBatchBytes.defaultValue!
    /// Ledger, retry and post-action keys (see ``IncrementalConfig``).
    public var incremental = IncrementalConfig()
    /// How XML files map to records (`input.xml`).
    public var xml: XMLOptions = XMLOptions()
    /// `input.follow_symlinks` (default `within`).
    public var followSymlinks: DirectoryScanner.SymlinkPolicy = .within
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
    /// Exit code of a run that committed with failed files (`errors.failed_files_exit`, default 3).
    public var failedFilesExit: Int = ConfigSchema.Errors.failedFilesExit.defaultValue!
    /// What a run past the threshold does (`errors.on_threshold`, default `fail`).
    public var onThreshold: OnThreshold = ConfigSchema.Errors.onThreshold.defaultValue!

    /// `fail`: commit nothing; `commit`: commit anyway (both exit 1).
    public enum OnThreshold: String, Sendable, CaseIterable { case fail, commit }
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
            throw ConfigError(problems: [ConfigProblem(file: path, line: 0, column: 0, message: unreadableConfig(path))])
        }
        // Relative paths in the file resolve against its directory (see ConfigPaths.swift).
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
        return try parse(yaml: text, file: path, overrides: overrides, environment: environment)
            .resolvingPaths(against: directory, commandLine: overriddenKeys(overrides))
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
        case .scanner(let context, let problem, let mark, let yaml), .parser(let context, let problem, let mark, let yaml),
             .composer(let context, let problem, let mark, let yaml):
            return ConfigProblem(file: file, line: mark.line, column: mark.column,
                                 message: YAMLSyntaxExplanation.message(problem: problem, context: context?.text,
                                                                       contextLine: context?.mark.line, line: mark.line,
                                                                       column: mark.column, yaml: yaml))
        default:
            return ConfigProblem(file: file, line: 0, column: 0, message: "invalid YAML: \(error)")
        }
    }

    /// Why the config file at `path` cannot be read, in plain words.
    static func unreadableConfig(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        let fm = FileManager.default
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if !fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            return "no such config file (looked for \(absolute) from \(fm.currentDirectoryPath))"
        }
        if isDirectory.boolValue {
            return "is a directory; give the pipeline's YAML file (e.g. \(path.hasSuffix("/") ? path : path + "/")NAME.yaml), or write one with `sluice init DIR`"
        }
        if !fm.isReadableFile(atPath: path) { return "cannot read the config: permission denied" }
        return "cannot read the config: it is not UTF-8 text"
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
        let batchSize = top.read(ConfigSchema.Top.batchSize)
        let input = require("input").flatMap(buildInput)
        let output = require("output").flatMap(buildOutput)
        let errors = top["errors"].map(buildErrors) ?? ErrorsConfig(path: ConfigSchema.Errors.path.defaultValue!, maxErrorRate: nil, maxErrors: nil)

        var defaults = StageDefaults()
        if let node = top["defaults"], let map = node.mapping(allowed: defaultsKeys) {
            if let workers = map.read(ConfigSchema.Defaults.workers) { defaults.workers = workers }
            if let queue = map.read(ConfigSchema.Defaults.queue) { defaults.queue = queue }
        }
        var stages: [StageSpec] = []
        if let list = top["stages"], !list.isNull, let items = list.sequence() {
            var names: Set<String> = []
            for (i, item) in items.enumerated() {
                // Names are checked whether or not the stage builds, so one pass reports
                // a duplicate beside every other problem.
                if let name = item.node.mapping?["name"]?.scalar?.string,
                   !names.insert(name).inserted {
                    item.report("duplicate stage name '\(name)'")
                }
                if let spec = buildStage(item, index: i, defaults: defaults) {
                    stages.append(spec)
                }
            }
        }
        let grace = top.read(ConfigSchema.Top.shutdownGrace)
        guard let name, let batchSize, let input, let output, let errors, let grace else { return nil }
        var config = PipelineConfig(name: name, input: input, batchSize: batchSize, stages: stages, output: output, errors: errors,
                                    sourcePath: file, shutdownGrace: grace)
        config.tests = top["tests"].map(PipelineTestCase.parseList) ?? []
        guard let commitEvery = top.read(ConfigSchema.Top.commitEvery) else { return nil }
        config.commitEvery = commitEvery.flatMap { $0.isEnabled ? $0 : nil }
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
        let include = map.read(ConfigSchema.Input.include)
        let exclude = map.read(ConfigSchema.Input.exclude)
        let format = map.read(ConfigSchema.Input.format)
        let readers = map.read(ConfigSchema.Input.readers)
        let maxRecord = map.read(ConfigSchema.Input.maxRecordBytes)
        let maxDepth = map.read(ConfigSchema.Input.maxDepth)
        let maxBatchBytes = map.read(ConfigSchema.Input.maxBatchBytes)
        let xml = map["xml"].map(buildXML) ?? XMLOptions()
        let maxWindow = map.read(ConfigSchema.Input.maxWindow)
        if let include, let exclude {
            do {
                _ = try DirectoryScanner(root: "", include: include, exclude: exclude)
            } catch {
                (map["include"] ?? map["exclude"] ?? node).report("\(error)")
            }
        }
        let incremental = IncrementalConfig.build(map)
        guard let path, let include, let exclude, let format,
              let readers, let maxRecord, let maxDepth, let maxBatchBytes, let incremental, let xml, let maxWindow else { return nil }
        var input = InputConfig(path: path, include: include, exclude: exclude, format: format, readers: readers,
                                maxRecordBytes: maxRecord, maxDepth: maxDepth, maxBatchBytes: maxBatchBytes, incremental: incremental, xml: xml,
                                codecs: CodecOptions(maxWindow: maxWindow))
        if let policy = map.read(ConfigSchema.Input.followSymlinks) { input.followSymlinks = policy }
        // XML records come indexed at the depth limit the first stage would apply.
        input.xml.jsonMaxDepth = maxDepth
        return input
    }

    private static func buildOutput(_ node: ConfigNode) -> OutputConfig? {
        OutputConfig.build(node)
    }

    private static func buildErrors(_ node: ConfigNode) -> ErrorsConfig? {
        guard let map = node.mapping(allowed: errorsKeys) else { return nil }
        let path = map.read(ConfigSchema.Errors.path)
        let rate = map.read(ConfigSchema.Errors.maxErrorRate)
        let count = map.read(ConfigSchema.Errors.maxErrors)
        let failedFilesExit = map.read(ConfigSchema.Errors.failedFilesExit)
        let onThreshold = map.read(ConfigSchema.Errors.onThreshold)
        guard let path, let rate, let count, let failedFilesExit, let onThreshold else { return nil }
        if path.isEmpty || path.hasSuffix("/") { map["path"]?.report("must name a file") }
        return ErrorsConfig(path: path, maxErrorRate: rate, maxErrors: count, failedFilesExit: failedFilesExit, onThreshold: onThreshold)
    }

    /// `defaults:` — sizing for stages that do not set their own (defaults from
    /// ``ConfigSchema/Defaults``, the one place they are written).
    struct StageDefaults {
        var workers = ConfigSchema.Defaults.workers.defaultValue!
        var queue = ConfigSchema.Defaults.queue.defaultValue!
    }

    /// A worker count: a number, or `auto` for the number of cores.
    static func workerCount(_ node: ConfigNode) -> Int? {
        // The cores this process may use (taskset, cgroup cpusets), not the machine's.
        if node.node.scalar?.string == "auto" { return ProcessorCount.available }
        if case .scalar(let s) = node.node, Int(s.string) == nil {
            node.report("expected an integer \(ConfigType.workerRange.lowerBound)–\(ConfigType.workerRange.upperBound) or 'auto' (one per core), got '\(s.string)'")
            return nil
        }
        return node.int(in: ConfigType.workerRange)
    }

    private static func buildStage(_ node: ConfigNode, index: Int, defaults: StageDefaults) -> StageSpec? {
        let kindNames = StageRegistry.kinds.map(\.name)
        guard let map = node.mapping(allowed: stageCommonKeys + kindNames) else { return nil }
        let kinds = kindNames.filter { map[$0] != nil }
        let name = map.read(ConfigSchema.Stage.name).map { $0 ?? "\(kinds.first ?? "stage")-\(index + 1)" }
        let workers = map["workers"] == nil ? defaults.workers : map.read(ConfigSchema.Stage.workers)
        let queue = map["queue"] == nil ? defaults.queue : map.read(ConfigSchema.Stage.queue)
        let onError = map.read(ConfigSchema.Stage.onError)
        guard kinds.count == 1, let kindName = kinds.first, let kind = StageRegistry.kind(named: kindName) else {
            if kinds.isEmpty {
                node.report("a stage needs one of: \(kindNames.joined(separator: ", "))")
            } else {
                node.report("a stage has exactly one kind, found \(kinds.joined(separator: " and "))")
            }
            return nil
        }
        guard let name, let workers, let queue, let onError else { return nil }
        guard let stage = kind.make(map[kindName]!, stageName: name) else { return nil }
        return StageSpec(name: name, kind: kindName, workers: workers, queue: queue, stage: stage, onError: onError)
    }
}

extension PipelineConfig {
    /// Checks what the config refers to outside itself — today the input directory —
    /// as `sluice validate` does; a run reports the same conditions as fatal I/O errors.
    public func checkReferences(inputPath: String? = nil) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let path = inputPath ?? input.path
        let place = locations["input.path"] ?? ConfigLocation(line: 0, column: 0)
        // `-` is stdin; a regular file is read alone (see DirectoryScanner).
        guard path != StandardInput.path else { return problems }
        var info = stat()
        if stat(path, &info) != 0 {
            problems.append(ConfigProblem(file: sourcePath, line: place.line, column: place.column,
                                          message: "input.path: directory '\(path)' does not exist"))
        } else if info.st_mode & S_IFMT != S_IFDIR && info.st_mode & S_IFMT != S_IFREG {
            problems.append(ConfigProblem(file: sourcePath, line: place.line, column: place.column,
                                          message: "input.path: '\(path)' is neither a directory nor a regular file"))
        }
        return problems
    }
}

extension PipelineConfig {
    /// The stages as they run: the configured ones, or one pass-through stage when the
    /// config has none (parsing and encoding happen inside stage workers).
    public var effectiveStages: [StageSpec] {
        stages.isEmpty
            ? [StageSpec(name: "passthrough", kind: "passthrough", workers: StageDefaults().workers, queue: StageDefaults().queue,
                         stage: PassThroughStage())]
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
