import Foundation
import SluiceCore
import SluiceStages
import SluiceIO

/// The pipeline config's keys, in one declarative table: each key is declared once, as
/// a typed ``Setting`` (name, type with its range or choices, default, doc) or, for a
/// nested mapping, a ``ConfigKey``.
///
/// The loaders read every value through these declarations (``ConfigNode``'s
/// `map.read(ConfigSchema.Input.readers)`), so the range, choice and default a loader
/// applies are the ones `docs/config.md` and the JSON Schema (`sluice schema`) state;
/// tests check that the loader accepts and refuses exactly what the table states.
///
/// To add a key: declare it in its section below, add it to the section's list
/// (`input`, `outputSpec`, …; the list's order is the docs' order), and read it in the
/// loader with `map.read(...)`. A new word of a choice backed by an enum (an output
/// format, a compression) is a new enum case: the loader, docs and schema follow.
public enum ConfigSchema {
    /// `input:`.
    public enum Input {
        public static let path = Setting.required("path", .string, "Directory searched recursively. Relative paths resolve against the config file's directory; `--input` overrides it (relative to the working directory).")
        public static let include = Setting.stringList("include", "Globs over the path relative to `path` (`**` spans directories, `*` and `?` stay within one, `[abc]`, `{a,b}`). Empty: every file.")
        public static let exclude = Setting.stringList("exclude", "Globs of files to leave out, applied after `include`.")
        public static let followSymlinks = Setting.choice("follow_symlinks", default: DirectoryScanner.SymlinkPolicy.within, "Symbolic links: `within` follows a link only when its target is inside `path` (one leading out, to `/etc/passwd` say, is not read: one `io` line); `always` follows every link; `never` none (one `io` line each).")
        public static let format = Setting.choice("format", default: InputFormat.auto, "`auto` picks NDJSON for `.ndjson`/`.jsonl`, XML for `.xml`/`.osm`/`.nxml`, otherwise looks at the first byte; `json` streams a top-level array element by element, or reads one document; `xml` maps elements to records (see `xml`). Compression (gzip, zstd, bzip2, xz, zlib) is detected by magic bytes, whatever the name.")
        public static let readers = Setting.integer("readers", 1...256, default: 2, "Files read at once.")
        public static let maxRecordBytes = Setting.byteSize("max_record_bytes", 16...(1 << 30), default: 16 << 20, "A longer record is an error of kind `limit`; NDJSON resynchronises at the next newline.")
        public static let maxDepth = Setting.integer("max_depth", 1...100_000, default: 512, "Nesting deeper than this is a parse error.")
        public static let maxWindow = Setting.byteSize("max_window", (1 << 20)...(1 << 31), default: 1 << 31, "Largest decoder window for compressed input: a zstd frame or xz stream that needs more fails its file (`io`). The default reads `zstd --long=31`. Memory: at most one such window per file being read (`readers`).")
        public static let maxBatchBytes = Setting.byteSize("max_batch_bytes", 1024...(1 << 30), default: 4 << 20, "A batch closes early once its records' text passes this size; with `max_record_bytes` it bounds one batch (see `sluice explain`).")
        public static let minAge = Setting.seconds("min_age", default: 0, shown: "0", "Files modified less than this long ago are left for a later run (they may still be being written).")
        public static let onChange = Setting.choice("on_change", default: IncrementalConfig.OnChange.reprocess, "A file the ledger holds whose content changed: process it again, skip it, or report it (one `io` line).")
        public static let maxRetries = Setting.integer("max_retries", 0...1_000_000, default: 2, "A file that keeps failing unchanged is skipped as poison after this many retries, until it changes or `--retry-failed`.")
        static let move = ConfigKey("move", .string, "Directory to move the file under, keeping its relative path.", required: true)
        public static let onSuccess = ConfigKey("on_success", .oneOf([.choice(["keep", "delete"]), .mapping([move])]),
                                                "What to do with an input after its records are committed: `keep`, `delete` or `{ move: DIR }`.", default: "keep")
        public static let onFailure = ConfigKey("on_failure", .oneOf([.choice(["keep"]), .mapping([move])]),
                                                "What to do with an input that failed: `keep` or `{ move: DIR }`.", default: "keep")
    }

    public static let input: [ConfigKey] = [
        Input.path.key, Input.include.key, Input.exclude.key, Input.followSymlinks.key, Input.format.key,
        ConfigKey("xml", .mapping(xml), "How XML files map to records."),
        Input.readers.key, Input.maxRecordBytes.key, Input.maxDepth.key, Input.maxWindow.key, Input.maxBatchBytes.key,
        Input.minAge.key, Input.onChange.key, Input.maxRetries.key, Input.onSuccess, Input.onFailure,
    ]

    /// `input.xml:`.
    public enum XML {
        public static let record = Setting.stringList("record", "The element that delimits one record: a path from the root (`/MedlineCitationSet/MedlineCitation`, `*` for any one element) or a bare name matched at any depth (`order`); a list tags each record with its element name.", default: ["/*/*"])
        public static let arrays = Setting.stringList("arrays", "Element names that are always arrays, however many times they occur.")
        public static let attributePrefix = Setting.string("attribute_prefix", default: "@", "Prefix of attribute keys.")
        public static let textKey = Setting.string("text_key", default: "#text", "Key of an element's text when it also has attributes or children.")
        public static let nameKey = Setting.string("name_key", default: "#name", "Key holding the record's element name (set when `record` is a list or uses `*`, or when this key is given).")
        public static let namespaces = Setting.choice("namespaces", ["keep", "strip"], default: "keep", "Keep prefixes as written (`mml:math`) or strip them.")
        public static let maxDepth = Setting.integer("max_depth", 1...10_000, default: 256, "Element nesting deeper than this fails the file.")
        public static let maxAttributes = Setting.integer("max_attributes", 1...100_000, default: 256, "A start tag with more attributes fails the file (checked before libxml2 sees it).")
        public static let maxTokenBytes = Setting.byteSize("max_token_bytes", 64...(1 << 30), default: 1 << 20, "A longer tag, comment, processing instruction, entity reference or DOCTYPE fails the file.")
        public static let split = Setting.choice("split", default: XMLSplit.auto, "Parse one large file on several cores: the document is cut directly below the root into segments of about 4 MiB, each parsed after the document's own prolog and root start tag, records and error lines exactly as one parser gives them. `auto` splits when this process may use more cores than the run reads files at once, min(`input.readers`, files in the run), decided before the first file opens; `off` never; `always` whatever the cores.")
    }

    public static let xml: [ConfigKey] = [
        XML.record.key, XML.arrays.key, XML.attributePrefix.key, XML.textKey.key, XML.nameKey.key, XML.namespaces.key,
        XML.maxDepth.key, XML.maxAttributes.key, XML.maxTokenBytes.key, XML.split.key,
    ]

    /// Format, compression, layout and file keys of `output:` and of each route.
    ///
    /// A new output format is a case of ``OutputSpec/Format`` (the `format` choice
    /// follows); its own keys are declared here, added to ``outputSpec`` and read in
    /// `OutputConfig.buildSpec` — with a check there that they are only given with
    /// that format, as `columns` is for CSV.
    public enum Output {
        public static let path = Setting.required("path", .string, "Output directory (created; it also holds the ledger, the lock and the error reports). Relative paths resolve against the config file's directory; `--output` overrides it (relative to the working directory).")
        public static let format = Setting.choice("format", default: OutputSpec.Format.ndjson, "`ndjson`: one JSON object per line; `json`: one array per file; `csv`: a header row and one row per record (needs `columns`); `parquet`: typed columns (needs `parquet.schema`).")
        public static let compression = Setting.choice("compression", OutputConfig.Compression.names, default: "none", "`gzip` or `zstd` writes one member (frame) per batch, compressed in parallel; the file is one valid stream of its codec, also when empty.")
        public static let level = Setting.integer("level", OutputConfig.Compression.anyLevel, "Compression level: gzip 1–9 (default 6; 1–3 use ISA-L when installed), zstd 1–19 (default 3).")
        public static let layout = Setting.choice("layout", default: OutputSpec.Layout.merged, "`merged`: one output per run (`NAME-RUNID.EXT`); `mirror`: one per input file, same relative path, replaced atomically on rerun; `partitioned`: Hive-style `key=value/` directories by `partition_by`.")
        public static let columns = ConfigKey("columns", CSVColumnsConfig.type, "CSV: the columns, in order: a field path or expression (the header is its text), or `{name: HEADER, value: EXPRESSION}` to name the header.")
        public static let parquet = ConfigKey("parquet", .mapping(ParquetSchemaConfig.keys), "Parquet: the schema (`schema`: name, type, path, nullable) and row-group settings; see README \"Parquet\".")
        public static let maxRecords = Setting.integer("max_records", 1...Int.max, "Merged layout: start a new file (`NAME-RUNID-0001.EXT`, …) before a batch that would pass this many records.")
        public static let maxBytes = Setting.byteSize("max_bytes", 1...Int.max, "Merged layout: start a new file before a batch that would pass this many bytes.")
        public static let partitionBy = Setting.stringList("partition_by", "Partitioned layout: field paths (expressions) whose values name the directories; null → `__null__`, empty → `__empty__`, unsafe bytes percent-encoded.")
        public static let keepRuns = ConfigKey("keep_runs", .oneOf([.integer(1...Int.max), .duration()]), "Prune old run summaries of this pipeline in the output directory after each committed run, with the HTML report beside each (`sluice run --report`): keep those of the newest N runs (`10`, this one included), or of the runs started within a duration (`30d`). Outputs, error reports and the ledger are never pruned (`sluice ledger rebuild` needs a run's error report). Default: keep all.")
        public static let maxOpenPartitions = Setting.integer("max_open_partitions", 1...100_000, default: 256, "Partitioned layout: more partitions than this in one run fail it (each holds an open file).")
    }

    /// Format, compression, layout and file keys: of `output:`, and of each route (a
    /// route inherits what it does not set).
    public static let outputSpec: [ConfigKey] = [
        Output.format.key, Output.compression.key, Output.level.key, Output.layout.key, Output.columns, Output.parquet,
        Output.maxRecords.key, Output.maxBytes.key, Output.partitionBy.key, Output.maxOpenPartitions.key,
    ]

    /// One entry of `output.routes`.
    public enum Route {
        public static let name = Setting.required("name", .string, "The route's name.")
        public static let when = Setting.optional("when", .expression, "An expression: records for which it is true go here (first matching route wins). Omit it on the last route to take every other record; without such a route unmatched records are dropped and counted as `unrouted`.")
        public static let path = Setting.optional("path", .string, "Directory under the output directory (default: the route's name).")
    }

    public static let route: [ConfigKey] = [Route.name.key, Route.when.key, Route.path.key] + outputSpec

    public static let output: [ConfigKey] = [
        Output.path.key, Output.keepRuns,
        ConfigKey("routes", .list(.mapping(route)), "Several named outputs chosen by `when:` expressions; each inherits the keys of `output:` it does not set."),
    ] + outputSpec

    /// `errors:`.
    public enum Errors {
        public static let path = Setting.string("path", default: "errors.ndjson", "Error report, relative to the output directory; the run id is added to its name (`errors-RUNID.ndjson`).")
        public static let maxErrorRate = Setting.number("max_error_rate", 0...1, "(failed + discarded records) / records read above which the run exits 1. Default: no limit.")
        public static let maxErrors = Setting.integer("max_errors", 0...Int.max, "Error lines above which the run exits 1. Default: no limit.")
        public static let onThreshold = Setting.choice("on_threshold", default: ErrorsConfig.OnThreshold.fail, "A run past `max_errors` / `max_error_rate`: `fail` commits nothing (no output, no file marked done; the next run processes the same files) and keeps its error report as `errors-RUNID.failed.ndjson` and its summary as `NAME-RUNID.failed-summary.json`; `commit` commits the run anyway and still exits 1.")
        public static let failedFilesExit = Setting.integer("failed_files_exit", 0...255, default: 3, "Exit code of a run that committed but had input files fail as a whole (each is named on stderr and retried next run); 0 for job systems that count any other code as a failed job. `--failed-files-exit` overrides it.")
    }

    public static let errors: [ConfigKey] = [Errors.path.key, Errors.maxErrorRate.key, Errors.maxErrors.key, Errors.onThreshold.key, Errors.failedFilesExit.key]

    /// `defaults:` — and the one place the stage sizing defaults (2 workers, a queue of
    /// 8 batches) are written.
    public enum Defaults {
        public static let workers = Setting.workers("workers", default: 2, "Workers of every stage that does not set its own.")
        public static let queueRange = 1...65_536
        public static let queue = Setting.integer("queue", queueRange, default: 8, "Input queue capacity (batches) of every stage that does not set its own.")
    }

    public static let defaults: [ConfigKey] = [Defaults.workers.key, Defaults.queue.key]

    /// Keys every stage takes besides its kind's key.
    public enum Stage {
        public static let name = Setting.optional("name", .string, "The stage's name, unique in the pipeline; error lines and the summary use it. Default: KIND-N.")
        public static let workers = Setting.workers("workers", default: Defaults.workers.defaultValue!, "Worker threads of this stage (`auto`: one per core).")
        public static let queue = Setting.integer("queue", Defaults.queueRange, default: Defaults.queue.defaultValue!, "Capacity of the stage's input queue, in batches; a full queue blocks its producer.")
        public static let onError = Setting.choice("on_error", default: StageErrorPolicy.report, "A record this stage fails: `report` it (an error line), `drop` it (counted), or `fail` the run (exit 1).")
    }

    public static let stageCommon: [ConfigKey] = [Stage.name.key, Stage.workers.key, Stage.queue.key, Stage.onError.key]

    /// One entry of `tests:` (in the config or a sibling `NAME.tests.yaml`).
    public enum TestCase {
        public static let name = Setting.optional("name", .string, "The test's name in reports. Default: test N.")
        public static let input = ConfigKey("input", .list(.any), "Input records: YAML mappings or JSON text, one per record.")
        public static let inputFile = Setting.optional("input_file", .string, "A file to read instead of `input`, relative to the config file, in any format the input reads.")
        public static let output = ConfigKey("output", .list(.any), "The records expected out, in order.")
        public static let outputCount = Setting.integer("output_count", 0...Int.max, "How many records are expected out.")
        public static let errorStage = Setting.optional("stage", .string, "The stage's name.")
        public static let errorKind = Setting<ErrorKind?>(key: ConfigKey("kind", .choice(ErrorKind.allCases.map(\.rawValue)), "The error's kind."),
                                                          default: .some(nil), decode: { $0.stringValue.flatMap(ErrorKind.init(rawValue:)) })
        public static let errorMessage = Setting.optional("message", .string, "The error's message, exactly.")
        public static let errorLine = Setting.integer("line", 1...Int.max, "The record's line in its file.")
        public static let expectedError = [errorStage.key, errorKind.key, errorMessage.key, errorLine.key]
        public static let routes = ConfigKey("routes", .fields(label: "route name", .oneOf([.list(.any), .integer(0...Int.max)])),
                                             "The records expected in each route (by `name`), in order — or how many — with `output.routes` applied as the config writes them; a route not named is not checked, `[]` or `0`: none.")
        public static let partitions = ConfigKey("partitions", .fields(label: "directory", .oneOf([.list(.any), .integer(0...Int.max)])),
                                                 "The records expected in each partition, in order — or how many — keyed by the directory its files are in, relative to `output.path` (`country=DE`; a route's: `eu/country=DE`).")
    }

    public static let testCase: [ConfigKey] = [
        TestCase.name.key, TestCase.input, TestCase.inputFile.key, TestCase.output, TestCase.outputCount.key,
        ConfigKey("errors", .list(.mapping(TestCase.expectedError)), "The error lines expected, in report order; the fields given must match (`[]`: none)."),
        TestCase.routes, TestCase.partitions,
    ]

    /// The top level.
    public enum Top {
        public static let name = Setting.required("name", .string, "The pipeline's name; output, summary and ledger entries are named after it.")
        public static let batchSize = Setting.integer("batch_size", 1...1_000_000, default: 1024, "Records per batch: the unit that crosses queues.")
        public static let shutdownGrace = Setting.seconds("shutdown_grace", default: 30, shown: "30s", "After SIGINT/SIGTERM, how long files in flight get to finish before the run stops them.")
        public static let commitEvery = Setting<CommitEvery?>(
            key: ConfigKey("commit_every", .oneOf([.duration(), .mapping([
                ConfigKey("interval", .duration(), "Time between checkpoints."),
                ConfigKey("files", .integer(1...Int.max), "Finished files between checkpoints (the same files whatever the worker counts)."),
            ])]), "Checkpoints: commit the files finished so far during the run (`5m`, or `{ interval: 5m, files: 100 }`, whichever comes first), so a `kill -9` loses only the files since the last one. Each checkpoint's outputs are named `NAME-RUNID.cNNNN.EXT`. Default: commit at the end only."),
            default: .some(nil),
            decode: { value in
                if let seconds = value.secondsValue { return CommitEvery(interval: seconds) }
                return CommitEvery(interval: value["interval"]?.secondsValue, files: value["files"]?.intValue)
            })
    }

    public static let top: [ConfigKey] = [
        Top.name.key,
        ConfigKey("input", .mapping(input), "Where records come from.", required: true),
        Top.batchSize.key,
        ConfigKey("defaults", .mapping(defaults), "Sizing for stages that do not set their own."),
        ConfigKey("stages", .list(.any), "The stages, in order; each is a mapping with one kind key (see docs/stages.md) and the common keys."),
        ConfigKey("output", .mapping(output), "Where kept records go.", required: true),
        ConfigKey("errors", .mapping(errors), "The error report and the run's failure threshold."),
        ConfigKey("tests", .list(.mapping(testCase)), "Test cases for `sluice test` (see README)."),
        Top.shutdownGrace.key,
        Top.commitEvery.key,
    ]

    /// Names of `keys`, for ``ConfigNode/mapping(allowed:quiet:)``.
    static func names(_ keys: [ConfigKey]) -> [String] { keys.map(\.name) }

    // MARK: JSON Schema

    /// The config's JSON Schema (draft-07), for YAML language servers.
    public static var jsonSchema: String {
        var writer = JSONWriter()
        writer.write(schemaValue())
        return prettyJSON(writer.bytes)
    }

    static func schemaValue() -> JSONValue {
        var root = object(top, title: "Sluice pipeline config")
        root.insert(JSONMember("$schema", .string("http://json-schema.org/draft-07/schema#")), at: 0)
        root.insert(JSONMember("$id", .string("https://sluice.invalid/sluice.schema.json")), at: 1)
        // Stages: the common keys plus exactly one kind key, each typed from its kind's
        // declaration (``StageKind/value``).
        let kinds = StageRegistry.kinds
        var stageProperties = stageCommon.map { JSONMember($0.name, schema(for: $0)) }
        for kind in kinds {
            stageProperties.append(JSONMember(kind.name, stageKindSchema(kind)))
        }
        let stage: JSONValue = .object([
            JSONMember("type", .string("object")),
            JSONMember("properties", .object(stageProperties)),
            JSONMember("additionalProperties", .bool(false)),
            JSONMember("oneOf", .array(kinds.map { .object([JSONMember("required", .array([.string($0.name)]))]) })),
        ])
        if let i = root.firstIndex(where: { $0.key == "properties" }), case .object(var properties) = root[i].value,
           let s = properties.firstIndex(where: { $0.key == "stages" }) {
            properties[s].value = .object([
                JSONMember("description", .string(top.first { $0.name == "stages" }!.doc)),
                JSONMember("type", .string("array")),
                JSONMember("items", stage),
            ])
            root[i].value = .object(properties)
        }
        return .object(root)
    }

    /// A stage kind's value, typed from its declaration; `kind:` alone is allowed where
    /// the kind takes every default.
    private static func stageKindSchema(_ kind: StageKind) -> JSONValue {
        let description = kind.value.doc.isEmpty ? kind.summary : "\(kind.summary) \(kind.value.doc)"
        var members = [JSONMember("description", .string(description))]
        let shape = typeSchema(kind.value.type)
        if kind.acceptsNull {
            members.append(JSONMember("oneOf", .array([.object([JSONMember("type", .string("null"))]), .object(shape)])))
        } else {
            members += shape
        }
        return .object(members)
    }

    private static func object(_ keys: [ConfigKey], title: String? = nil) -> [JSONMember] {
        var members: [JSONMember] = []
        if let title { members.append(JSONMember("title", .string(title))) }
        members.append(JSONMember("type", .string("object")))
        members.append(JSONMember("properties", .object(keys.map { JSONMember($0.name, schema(for: $0)) })))
        let required = keys.filter(\.isRequired).map { JSONValue.string($0.name) }
        if !required.isEmpty { members.append(JSONMember("required", .array(required))) }
        members.append(JSONMember("additionalProperties", .bool(false)))
        return members
    }

    private static func schema(for key: ConfigKey) -> JSONValue {
        var members = typeSchema(key.type)
        var doc = key.doc
        if let value = key.defaultValue { doc += " Default: \(value)." }
        members.insert(JSONMember("description", .string(doc)), at: 0)
        return .object(members)
    }

    private static func typeSchema(_ type: ConfigType) -> [JSONMember] {
        switch type {
        case .string, .fieldPath:
            return [JSONMember("type", .string("string"))]
        case .expression:
            // A literal is an expression too (`default: { total: 0 }`), and the loader
            // reads any scalar's text.
            return [JSONMember("type", .array([.string("string"), .string("number"), .string("boolean")]))]
        case .integer(let range):
            var m = [JSONMember("type", .string("integer")), JSONMember("minimum", .int(Int64(range.lowerBound)))]
            if range.upperBound < Int.max { m.append(JSONMember("maximum", .int(Int64(range.upperBound)))) }
            return m
        case .number(let range):
            var m = [JSONMember("type", .string("number"))]
            if range.lowerBound > -Double.greatestFiniteMagnitude { m.append(JSONMember("minimum", .double(range.lowerBound))) }
            if range.upperBound < Double.greatestFiniteMagnitude { m.append(JSONMember("maximum", .double(range.upperBound))) }
            return m
        case .boolean:
            return [JSONMember("type", .string("boolean"))]
        case .choice(let words):
            return [JSONMember("enum", .array(words.map { .string($0) }))]
        case .stringList:
            return [JSONMember("oneOf", .array([.object([JSONMember("type", .string("string"))]),
                                                .object([JSONMember("type", .string("array")), JSONMember("items", .object([JSONMember("type", .string("string"))]))])]))]
        case .arguments:
            return [JSONMember("type", .string("array")), JSONMember("items", .object([JSONMember("type", .string("string"))]))]
        case .byteSize:
            return [JSONMember("type", .array([.string("integer"), .string("string")])),
                    JSONMember("pattern", .string("^[0-9_]+ *([kKmMgG]i?[bB]?|[bB])?$"))]
        case .duration:
            return [JSONMember("type", .array([.string("number"), .string("string")])),
                    JSONMember("pattern", .string("^[0-9.]+ *(ms|s|m|min|h|d)?$"))]
        case .workers:
            let range = ConfigType.workerRange
            return [JSONMember("oneOf", .array([.object([JSONMember("type", .string("integer")), JSONMember("minimum", .int(Int64(range.lowerBound))),
                                                         JSONMember("maximum", .int(Int64(range.upperBound)))]),
                                                .object([JSONMember("const", .string("auto"))])]))]
        case .mapping(let keys):
            return object(keys)
        case .fields(_, let value):
            return [JSONMember("type", .string("object")), JSONMember("additionalProperties", .object(typeSchema(value)))]
        case .oneOf(let types):
            return [JSONMember("oneOf", .array(types.map { .object(typeSchema($0)) }))]
        case .list(let element):
            return [JSONMember("type", .string("array")), JSONMember("items", .object(typeSchema(element)))]
        case .any:
            return []
        }
    }

    /// Compact JSON re-indented with two spaces (the writer is compact).
    private static func prettyJSON(_ bytes: [UInt8]) -> String {
        var out = ""
        var indent = 0
        var inString = false
        var escaped = false
        func newline() { out += "\n" + String(repeating: "  ", count: indent) }
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            let c = Character(scalar)
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            switch c {
            case "\"": inString = true; out.append(c)
            case "{", "[": indent += 1; out.append(c); newline()
            case "}", "]": indent -= 1; newline(); out.append(c)
            case ",": out.append(c); newline()
            case ":": out += ": "
            default: out.append(c)
            }
        }
        return out.replacingOccurrences(of: "{\n" + "", with: "{\n").replacingOccurrences(of: "[\n  ]", with: "[]") + "\n"
    }

    // MARK: Markdown

    /// `docs/config.md`: every key, from this table.
    public static var markdown: String {
        var text = "<!-- THIS FILE IS GENERATED from ConfigSchema; do not edit. -->\n# Pipeline config reference\n\n"
        text += "Editors: point your YAML language server at `docs/sluice.schema.json` (see README). "
        text += "String values may use `${VAR}` / `${VAR:-default}`; `--set key.path=value` overrides any value.\n"
        func section(_ title: String, _ keys: [ConfigKey], prefix: String) {
            text += "\n## `\(title)`\n\n| key | type | default | meaning |\n|---|---|---|---|\n"
            for key in keys {
                text += "| `\(prefix)\(key.name)`\(key.isRequired ? " (required)" : "") | \(cell(key.type.summary)) | \(key.defaultValue.map { "`\($0)`" } ?? "") | \(cell(key.doc)) |\n"
            }
        }
        section("top level", top, prefix: "")
        section("input", input, prefix: "input.")
        section("input.xml", xml, prefix: "input.xml.")
        section("output", output, prefix: "output.")
        section("output.routes[]", Array(route.prefix(route.count - outputSpec.count)), prefix: "")
        text += "\nA route also takes every key of `output` from `format` on; what it does not set, it inherits.\n"
        section("output.parquet", ParquetSchemaConfig.keys, prefix: "output.parquet.")
        section("output.parquet.schema[]", ParquetSchemaConfig.columnKeys, prefix: "")
        section("output.parquet.schema[].fields[]", ParquetSchemaConfig.fieldKeys, prefix: "")
        section("errors", errors, prefix: "errors.")
        section("defaults", defaults, prefix: "defaults.")
        section("stages[]", stageCommon, prefix: "")
        text += "\nEach stage also has exactly one kind key; see docs/stages.md.\n"
        section("tests[]", testCase, prefix: "")
        return text
    }

    /// Text for a Markdown table cell.
    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
