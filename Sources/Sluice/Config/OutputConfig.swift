import SluiceCore
import SluiceStages
import SluiceIO

/// `output:` — where kept records go, in which format, layout and files.
///
/// The single-output form writes every kept record to one output; `routes:` splits
/// records among several named outputs by `when:` expressions (first match wins), each
/// inheriting the keys of `output:` that it does not set itself:
///
/// ```yaml
/// output:
///   path: out/orders                 # the output directory (ledger, lock, error report)
///   format: ndjson                   # ndjson | json | csv
///   compression: gzip                # none | gzip | zstd
///   level: 6                         # gzip 1-9 (default 6), zstd 1-19 (default 3)
///   layout: merged                   # merged | mirror | partitioned
///   max_records: 1000000             # merged: start a new file past this (also max_bytes)
///   routes:
///     - name: big
///       when: 'total_cents > 10000'
///       format: csv
///       columns: [id, customer_id, total_cents]
///     - name: rest                   # no `when`: every record no earlier route took
/// ```
public struct OutputConfig: Sendable {
    /// Output directory (relative in a config file: against the file's directory).
    public var path: String
    /// The output's file format (`format`, default `ndjson`).
    public var format: String { spec.format.rawValue }
    /// `none`, `gzip` or `zstd` (default `none`; see ``Codecs``).
    public var compression: Compression { spec.compression }
    /// The compression level (gzip 1–9, default 6; zstd 1–19, default 3).
    public var level: Int { spec.effectiveLevel }
    /// `merged`, `mirror` or `partitioned`.
    public var layout: String { spec.layout.rawValue }
    /// Format, compression, layout and files of the single-output form, and the
    /// defaults of every route.
    public var spec: OutputSpec
    /// Named outputs with `when:` conditions; empty for the single-output form.
    public var routes: [OutputRoute] = []
    /// `output.keep_runs`: which run summaries and error reports to keep; nil keeps all.
    public var keepRuns: RunRetention?

    /// The outputs a run writes: the routes, or one unnamed route in the output directory.
    var effectiveRoutes: [OutputRoute] {
        routes.isEmpty ? [OutputRoute(name: "", condition: nil, directory: "", spec: spec)] : routes
    }

    /// Whether some record can match no route (no route without `when`): such records
    /// are dropped and counted as `records.unrouted`.
    var dropsUnmatched: Bool { !routes.isEmpty && routes.allSatisfy { $0.condition != nil } }
}

extension OutputConfig {
    /// `output.compression` (declared beside the codecs).
    public typealias Compression = OutputCompression
}

extension OutputSpec {
    /// The defaults of ``ConfigSchema/Output``, where they are declared.
    public init() {
        self.init(format: ConfigSchema.Output.format.defaultValue!,
                  compression: OutputConfig.Compression(rawValue: ConfigSchema.Output.compression.defaultValue!)!,
                  level: ConfigSchema.Output.level.defaultValue!, layout: ConfigSchema.Output.layout.defaultValue!,
                  maxOpenPartitions: ConfigSchema.Output.maxOpenPartitions.defaultValue!)
    }
}

extension OutputConfig {
    // From the declarative key table (see ``ConfigSchema``).
    static let keys = ConfigSchema.names(ConfigSchema.output)
    static let routeKeys = ConfigSchema.names(ConfigSchema.route)

    static func build(_ node: ConfigNode) -> OutputConfig? {
        guard let map = node.mapping(allowed: keys) else { return nil }
        guard let pathNode = map["path"] else {
            node.report("missing required key 'path'")
            return nil
        }
        let path = pathNode.string()
        let spec = buildSpec(map, node: node, inheriting: OutputSpec())
        var routes: [OutputRoute] = []
        var ok = true
        if let list = map["routes"], let items = list.sequence() {
            var names: Set<String> = [], directories: Set<String> = []
            for (i, item) in items.enumerated() {
                guard let spec, let route = buildRoute(item, inheriting: spec) else { ok = false; continue }
                if !names.insert(route.name).inserted { item.report("duplicate route name '\(route.name)'") }
                if !directories.insert(route.directory).inserted {
                    item.report("route '\(route.name)': path '\(route.directory)' is used by another route")
                }
                if route.condition == nil && i != items.count - 1 {
                    item.report("route '\(route.name)' has no 'when', so it takes every record: it must be the last route")
                }
                routes.append(route)
            }
            if items.isEmpty { list.report("needs at least one route") }
        } else if map["routes"] != nil {
            ok = false
        }
        var keepRuns: RunRetention?
        if let n = map[ConfigSchema.Output.keepRuns.name] {
            if let value = RunRetention(n) { keepRuns = value } else { ok = false }
        }
        guard let path, let spec, ok else { return nil }
        var config = OutputConfig(path: path, spec: spec, routes: routes)
        config.keepRuns = keepRuns
        return config
    }

    private static func buildRoute(_ node: ConfigNode, inheriting parent: OutputSpec) -> OutputRoute? {
        guard let map = node.mapping(allowed: routeKeys) else { return nil }
        guard let nameNode = map["name"] else {
            node.report("missing required key 'name'")
            return nil
        }
        let name = nameNode.string()
        if let name, name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            nameNode.report("must be a non-empty name without '/' that does not start with '.'")
        }
        var condition: CompiledExpression??
        if let whenNode = map[ConfigSchema.Route.when.name] {
            condition = compile(whenNode).map { .some($0) }
        } else {
            condition = .some(nil)
        }
        let directory = map.read(ConfigSchema.Route.path).map { $0 ?? name } ?? nil
        if let directory, directory.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix(".") }) || directory.hasPrefix("/") {
            map["path"]?.report("must be a relative directory inside the output directory")
        }
        let spec = buildSpec(map, node: node, inheriting: parent)
        guard let name, let condition, let directory, let spec else { return nil }
        return OutputRoute(name: name, condition: condition, directory: directory, spec: spec)
    }

    private static func compile(_ node: ConfigNode) -> CompiledExpression? {
        guard let text = node.string() else { return nil }
        do {
            return try CompiledExpression(text)
        } catch {
            node.report("\(error.message)", columnInValue: error.column)
            return nil
        }
    }

    private static func buildSpec(_ map: [String: ConfigNode], node: ConfigNode, inheriting parent: OutputSpec) -> OutputSpec? {
        var spec = parent
        var ok = true
        /// The value of a key this mapping sets (nil when absent: the inherited value
        /// stays), read through its declaration in ``ConfigSchema/Output``.
        func read<T>(_ setting: Setting<T>) -> T? {
            guard map[setting.name] != nil else { return nil }
            let value = map.read(setting)
            if value == nil { ok = false }
            return value
        }
        let keys = ConfigSchema.Output.self
        if let v = read(keys.format) { spec.format = v }
        if let v = read(keys.compression) { spec.compression = OutputConfig.Compression(rawValue: v)! }
        if let v = read(keys.level) { spec.level = v }
        if let level = spec.level, !spec.compression.levels.contains(level), let n = map["level"] ?? map["compression"] {
            n.report("level \(level) is out of range for compression \(spec.compression.rawValue) (\(spec.compression.levels.lowerBound)...\(spec.compression.levels.upperBound))")
            ok = false
        }
        if let n = map["parquet"] { if let v = ParquetSchemaConfig.build(n) { spec.parquet = v } else { ok = false } }
        if let v = read(keys.layout) { spec.layout = v }
        if let node = map[keys.columns.name] {
            if let columns = CSVColumnsConfig.read(node, compile: compile) {
                spec.columns = columns.map(\.text)
                spec.columnNames = columns.map(\.header)
                spec.compiledColumns = columns.map(\.compiled)
            } else {
                ok = false
            }
        }
        if let v = read(keys.maxRecords) { spec.maxRecords = v }
        if let v = read(keys.maxBytes) { spec.maxBytes = v }
        if let v = read(keys.partitionBy) {
            spec.partitionBy = v
            spec.compiledPartitions = []
            for item in map["partition_by"]!.sequence() ?? [map["partition_by"]!] {
                if let e = compile(item) { spec.compiledPartitions.append(e) } else { ok = false }
            }
        }
        if let v = read(keys.maxOpenPartitions) { spec.maxOpenPartitions = v }
        guard ok else { return nil }
        if spec.format == .csv && spec.columns.isEmpty {
            (map["format"] ?? node).report("format csv needs 'columns' (a list of field paths)")
            return nil
        }
        if spec.format == .parquet && spec.parquet == nil {
            (map["format"] ?? node).report("format parquet needs 'parquet' with a 'schema' (a list of columns: name, type)")
            return nil
        }
        if spec.format != .parquet, let n = map["parquet"] {
            n.report("'parquet' applies to format parquet only")
            return nil
        }
        if spec.format != .csv, let columns = map["columns"] {
            columns.report("'columns' applies to format csv only")
            return nil
        }
        if spec.layout == .partitioned && spec.partitionBy.isEmpty {
            (map["layout"] ?? node).report("layout partitioned needs 'partition_by' (a list of field paths)")
            return nil
        }
        if spec.layout != .partitioned, let n = map["partition_by"] {
            n.report("'partition_by' applies to layout partitioned only")
            return nil
        }
        if spec.layout != .merged, let n = map["max_records"] ?? map["max_bytes"] {
            n.report("'max_records' and 'max_bytes' apply to layout merged only")
            return nil
        }
        return spec
    }
}
