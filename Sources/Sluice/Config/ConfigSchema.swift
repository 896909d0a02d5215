import Foundation

/// The type of one config value, as the loader reads it and the JSON Schema states it.
public indirect enum ConfigType: Sendable {
    case string
    /// An integer in a range.
    case integer(ClosedRange<Int>)
    /// A number in a range.
    case number(ClosedRange<Double>)
    case boolean
    /// One of these words.
    case choice([String])
    /// A list of strings; one string is taken as a list of one.
    case stringList
    /// `16MiB`, `512KB` or a number of bytes, in a range.
    case byteSize(ClosedRange<Int>)
    /// `500ms`, `2s`, `5m`, `1h`, `1d`, or a number of seconds.
    case duration
    /// A worker count or `auto` (one per core).
    case workers
    /// A mapping with these keys.
    case mapping([ConfigKey])
    /// One of several shapes.
    case oneOf([ConfigType])
    /// A list of values of one type.
    case list(ConfigType)
    /// Anything (checked by the part that reads it).
    case any
}

/// One key of a config mapping: its name, type, default and documentation.
public struct ConfigKey: Sendable {
    public var name: String
    public var type: ConfigType
    public var doc: String
    /// The default as written in YAML, when there is one.
    public var defaultValue: String?
    public var isRequired: Bool

    public init(_ name: String, _ type: ConfigType, _ doc: String, default defaultValue: String? = nil, required: Bool = false) {
        self.name = name
        self.type = type
        self.doc = doc
        self.defaultValue = defaultValue
        self.isRequired = required
    }
}

/// The pipeline config's keys, in one declarative table.
///
/// The loader takes its allowed keys from here (so an unknown-key check cannot drift
/// from the documentation), `sluice schema` turns it into a JSON Schema for editors, and
/// `docs/config.md` is generated from it; tests check that the loader accepts and
/// refuses exactly what the table states for every range and choice.
public enum ConfigSchema {
    public static let input: [ConfigKey] = [
        ConfigKey("path", .string, "Directory searched recursively. Relative paths resolve against the working directory; `--input` overrides it.", required: true),
        ConfigKey("include", .stringList, "Globs over the path relative to `path` (`**` spans directories, `*` and `?` stay within one, `[abc]`, `{a,b}`). Empty: every file."),
        ConfigKey("exclude", .stringList, "Globs of files to leave out, applied after `include`."),
        ConfigKey("format", .choice(["auto", "ndjson", "json", "xml"]), "`auto` picks NDJSON for `.ndjson`/`.jsonl`, XML for `.xml`/`.osm`/`.nxml`, otherwise looks at the first byte; `json` streams a top-level array element by element, or reads one document; `xml` maps elements to records (see `xml`). Compression (gzip, zstd, bzip2, xz, zlib) is detected by magic bytes, whatever the name.", default: "auto"),
        ConfigKey("xml", .mapping(xml), "How XML files map to records."),
        ConfigKey("readers", .integer(1...256), "Files read at once.", default: "2"),
        ConfigKey("max_record_bytes", .byteSize(16...(1 << 30)), "A longer record is an error of kind `limit`; NDJSON resynchronises at the next newline.", default: "16MiB"),
        ConfigKey("max_depth", .integer(1...100_000), "Nesting deeper than this is a parse error.", default: "512"),
        ConfigKey("max_window", .byteSize((1 << 20)...(1 << 31)), "Largest decoder window for compressed input: a zstd frame or xz stream that needs more fails its file (`io`). The default reads `zstd --long=31`. Memory: at most one such window per file being read (`readers`).", default: "2GiB"),
        ConfigKey("max_batch_bytes", .byteSize(1024...(1 << 30)), "A batch closes early once its records' text passes this size; with `max_record_bytes` it bounds one batch (see `sluice explain`).", default: "4MiB"),
        ConfigKey("min_age", .duration, "Files modified less than this long ago are left for a later run (they may still be being written).", default: "0"),
        ConfigKey("on_change", .choice(["reprocess", "skip", "error"]), "A file the ledger holds whose content changed: process it again, skip it, or report it (one `io` line).", default: "reprocess"),
        ConfigKey("max_retries", .integer(0...1_000_000), "A file that keeps failing unchanged is skipped as poison after this many retries, until it changes or `--retry-failed`.", default: "2"),
        ConfigKey("on_success", .oneOf([.choice(["keep", "delete"]), .mapping([ConfigKey("move", .string, "Directory to move the file under, keeping its relative path.", required: true)])]),
                  "What to do with an input after its records are committed: `keep`, `delete` or `{ move: DIR }`.", default: "keep"),
        ConfigKey("on_failure", .oneOf([.choice(["keep"]), .mapping([ConfigKey("move", .string, "Directory to move the file under, keeping its relative path.", required: true)])]),
                  "What to do with an input that failed: `keep` or `{ move: DIR }`.", default: "keep"),
    ]

    public static let xml: [ConfigKey] = [
        ConfigKey("record", .stringList, "The element that delimits one record: a path from the root (`/MedlineCitationSet/MedlineCitation`, `*` for any one element) or a bare name matched at any depth (`order`); a list tags each record with its element name.", default: "/*/*"),
        ConfigKey("arrays", .stringList, "Element names that are always arrays, however many times they occur."),
        ConfigKey("attribute_prefix", .string, "Prefix of attribute keys.", default: "@"),
        ConfigKey("text_key", .string, "Key of an element's text when it also has attributes or children.", default: "#text"),
        ConfigKey("name_key", .string, "Key holding the record's element name (set when `record` is a list or uses `*`, or when this key is given).", default: "#name"),
        ConfigKey("namespaces", .choice(["keep", "strip"]), "Keep prefixes as written (`mml:math`) or strip them.", default: "keep"),
        ConfigKey("max_depth", .integer(1...10_000), "Element nesting deeper than this fails the file.", default: "256"),
        ConfigKey("max_attributes", .integer(1...100_000), "A start tag with more attributes fails the file (checked before libxml2 sees it).", default: "256"),
        ConfigKey("max_token_bytes", .byteSize(64...(1 << 30)), "A longer tag, comment, processing instruction, entity reference or DOCTYPE fails the file.", default: "1MiB"),
    ]

    /// Format, compression, layout and file keys: of `output:`, and of each route (a
    /// route inherits what it does not set).
    public static let outputSpec: [ConfigKey] = [
        ConfigKey("format", .choice(["ndjson", "json", "csv"]), "`ndjson`: one JSON object per line; `json`: one array per file; `csv`: a header row and one row per record (needs `columns`).", default: "ndjson"),
        ConfigKey("compression", .choice(OutputConfig.Compression.names), "`gzip` or `zstd` writes one member (frame) per batch, compressed in parallel; the file is one valid stream of its codec, also when empty.", default: "none"),
        ConfigKey("level", .integer(OutputConfig.Compression.anyLevel), "Compression level: gzip 1–9 (default 6; 1–3 use ISA-L when installed), zstd 1–19 (default 3).", default: "6"),
        ConfigKey("layout", .choice(["merged", "mirror", "partitioned"]), "`merged`: one output per run (`NAME-RUNID.EXT`); `mirror`: one per input file, same relative path, replaced atomically on rerun; `partitioned`: Hive-style `key=value/` directories by `partition_by`.", default: "merged"),
        ConfigKey("columns", .stringList, "CSV: one column per field path or expression; the header row holds their text."),
        ConfigKey("max_records", .integer(1...Int.max), "Merged layout: start a new file (`NAME-RUNID-0001.EXT`, …) before a batch that would pass this many records."),
        ConfigKey("max_bytes", .byteSize(1...Int.max), "Merged layout: start a new file before a batch that would pass this many bytes."),
        ConfigKey("partition_by", .stringList, "Partitioned layout: field paths (expressions) whose values name the directories; null → `__null__`, empty → `__empty__`, unsafe bytes percent-encoded."),
        ConfigKey("max_open_partitions", .integer(1...100_000), "Partitioned layout: more partitions than this in one run fail it (each holds an open file).", default: "256"),
    ]

    /// One entry of `output.routes`.
    public static let route: [ConfigKey] = [
        ConfigKey("name", .string, "The route's name.", required: true),
        ConfigKey("when", .string, "An expression: records for which it is true go here (first matching route wins). Omit it on the last route to take every other record; without such a route unmatched records are dropped and counted as `unrouted`."),
        ConfigKey("path", .string, "Directory under the output directory (default: the route's name)."),
    ] + outputSpec

    public static let output: [ConfigKey] = [
        ConfigKey("path", .string, "Output directory (created; it also holds the ledger, the lock and the error reports). Relative paths resolve against the working directory; `--output` overrides it.", required: true),
        ConfigKey("routes", .list(.mapping(route)), "Several named outputs chosen by `when:` expressions; each inherits the keys of `output:` it does not set."),
    ] + outputSpec

    public static let errors: [ConfigKey] = [
        ConfigKey("path", .string, "Error report, relative to the output directory; the run id is added to its name (`errors-RUNID.ndjson`).", default: "errors.ndjson"),
        ConfigKey("max_error_rate", .number(0...1), "(failed + discarded records) / records read above which the run exits 1. Default: no limit."),
        ConfigKey("max_errors", .integer(0...Int.max), "Error lines above which the run exits 1. Default: no limit."),
    ]

    public static let defaults: [ConfigKey] = [
        ConfigKey("workers", .workers, "Workers of every stage that does not set its own.", default: "2"),
        ConfigKey("queue", .integer(1...65_536), "Input queue capacity (batches) of every stage that does not set its own.", default: "8"),
    ]

    /// Keys every stage takes besides its kind's key.
    public static let stageCommon: [ConfigKey] = [
        ConfigKey("name", .string, "The stage's name, unique in the pipeline; error lines and the summary use it. Default: KIND-N."),
        ConfigKey("workers", .workers, "Worker threads of this stage (`auto`: one per core).", default: "2"),
        ConfigKey("queue", .integer(1...65_536), "Capacity of the stage's input queue, in batches; a full queue blocks its producer.", default: "8"),
        ConfigKey("on_error", .choice(["report", "drop", "fail"]), "A record this stage fails: `report` it (an error line), `drop` it (counted), or `fail` the run (exit 1).", default: "report"),
    ]

    public static let top: [ConfigKey] = [
        ConfigKey("name", .string, "The pipeline's name; output, summary and ledger entries are named after it.", required: true),
        ConfigKey("input", .mapping(input), "Where records come from.", required: true),
        ConfigKey("batch_size", .integer(1...1_000_000), "Records per batch: the unit that crosses queues.", default: "1024"),
        ConfigKey("defaults", .mapping(defaults), "Sizing for stages that do not set their own."),
        ConfigKey("stages", .list(.any), "The stages, in order; each is a mapping with one kind key (see docs/stages.md) and the common keys."),
        ConfigKey("output", .mapping(output), "Where kept records go.", required: true),
        ConfigKey("errors", .mapping(errors), "The error report and the run's failure threshold."),
        ConfigKey("tests", .list(.any), "Test cases for `sluice test` (see README)."),
        ConfigKey("shutdown_grace", .duration, "After SIGINT/SIGTERM, how long files in flight get to finish before the run stops them.", default: "30s"),
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
        // Stages: the common keys plus exactly one kind key.
        let kinds = StageRegistry.kinds.map(\.name)
        var stageProperties = stageCommon.map { JSONMember($0.name, schema(for: $0)) }
        for kind in StageRegistry.kinds {
            stageProperties.append(JSONMember(kind.name, stageKindSchema(kind)))
        }
        let stage: JSONValue = .object([
            JSONMember("type", .string("object")),
            JSONMember("properties", .object(stageProperties)),
            JSONMember("additionalProperties", .bool(false)),
            JSONMember("oneOf", .array(kinds.map { .object([JSONMember("required", .array([.string($0)]))]) })),
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

    /// A stage kind's value: its fixed keys (from ``StageKind/keys``, the same list its
    /// builder allows), keys the user names (field paths), or a plain value.
    private static func stageKindSchema(_ kind: StageKind) -> JSONValue {
        var members = [JSONMember("description", .string(kind.summary))]
        let fixed = kind.keys.filter(\.isFixed)
        let named = kind.keys.first { $0.name.hasPrefix("<") }
        let value = kind.keys.first { $0.name.hasPrefix("(") }
        var shapes: [JSONValue] = []
        if !fixed.isEmpty {
            shapes.append(.object([
                JSONMember("type", .string("object")),
                JSONMember("properties", .object(fixed.map { JSONMember($0.name, .object([JSONMember("description", .string("\($0.type): \($0.doc)"))])) })),
                JSONMember("additionalProperties", .bool(false)),
            ]))
        }
        if let named {
            shapes.append(.object([
                JSONMember("type", .string("object")),
                JSONMember("description", .string("\(named.name) → \(named.type): \(named.doc)")),
            ]))
        }
        if let value {
            members[0] = JSONMember("description", .string("\(kind.summary) \(value.type): \(value.doc)"))
            return .object(members)
        }
        if shapes.count == 1, case .object(let shape) = shapes[0] { members += shape } else if !shapes.isEmpty { members.append(JSONMember("anyOf", .array(shapes))) }
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
        case .string:
            return [JSONMember("type", .string("string"))]
        case .integer(let range):
            var m = [JSONMember("type", .string("integer")), JSONMember("minimum", .int(Int64(range.lowerBound)))]
            if range.upperBound < Int.max { m.append(JSONMember("maximum", .int(Int64(range.upperBound)))) }
            return m
        case .number(let range):
            return [JSONMember("type", .string("number")), JSONMember("minimum", .double(range.lowerBound)), JSONMember("maximum", .double(range.upperBound))]
        case .boolean:
            return [JSONMember("type", .string("boolean"))]
        case .choice(let words):
            return [JSONMember("enum", .array(words.map { .string($0) }))]
        case .stringList:
            return [JSONMember("oneOf", .array([.object([JSONMember("type", .string("string"))]),
                                                .object([JSONMember("type", .string("array")), JSONMember("items", .object([JSONMember("type", .string("string"))]))])]))]
        case .byteSize:
            return [JSONMember("type", .array([.string("integer"), .string("string")])),
                    JSONMember("pattern", .string("^[0-9_]+ *([kKmMgG]i?[bB]?|[bB])?$"))]
        case .duration:
            return [JSONMember("type", .array([.string("number"), .string("string")])),
                    JSONMember("pattern", .string("^[0-9.]+ *(ms|s|m|min|h|d)?$"))]
        case .workers:
            return [JSONMember("oneOf", .array([.object([JSONMember("type", .string("integer")), JSONMember("minimum", .int(1)), JSONMember("maximum", .int(256))]),
                                                .object([JSONMember("const", .string("auto"))])]))]
        case .mapping(let keys):
            return object(keys)
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
                let type = describe(key.type).replacingOccurrences(of: "|", with: "\\|")
                text += "| `\(prefix)\(key.name)`\(key.isRequired ? " (required)" : "") | \(type) | \(key.defaultValue.map { "`\($0)`" } ?? "") | \(key.doc) |\n"
            }
        }
        section("top level", top, prefix: "")
        section("input", input, prefix: "input.")
        section("output", output, prefix: "output.")
        section("errors", errors, prefix: "errors.")
        section("defaults", defaults, prefix: "defaults.")
        section("stages[]", stageCommon, prefix: "")
        text += "\nEach stage also has exactly one kind key; see docs/stages.md.\n"
        return text
    }

    static func describe(_ type: ConfigType) -> String {
        switch type {
        case .string: return "string"
        case .integer(let r): return r.upperBound == Int.max ? "integer ≥ \(r.lowerBound)" : "integer \(r.lowerBound)–\(r.upperBound)"
        case .number(let r): return "number \(r.lowerBound)–\(r.upperBound)"
        case .boolean: return "boolean"
        case .choice(let words): return words.map { "`\($0)`" }.joined(separator: " \\| ")
        case .stringList: return "string or list of strings"
        case .byteSize: return "size (`16MiB`, `512KB`, bytes)"
        case .duration: return "duration (`500ms`, `30s`, `5m`, `1h`)"
        case .workers: return "integer 1–256 or `auto`"
        case .mapping: return "mapping"
        case .oneOf(let types): return types.map(describe).joined(separator: " or ")
        case .list: return "list"
        case .any: return "any"
        }
    }
}
