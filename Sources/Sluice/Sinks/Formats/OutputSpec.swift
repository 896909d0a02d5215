import SluiceStages

/// Format, compression, layout and file limits of one output.
public struct OutputSpec: Sendable {
    public enum Format: String, Sendable, CaseIterable { case ndjson, json, csv, parquet }
    public enum Layout: String, Sendable, CaseIterable { case merged, mirror, partitioned }

    // Defaults: `init()` (Config), from the key table (``ConfigSchema/Output``), the one
    // place they are written.
    public var format: Format
    public var compression: OutputCompression
    /// `level`, nil for the codec's default.
    public var level: Int?
    public var layout: Layout
    /// CSV: one column per expression (usually a field path), as written.
    public var columns: [String] = []
    /// CSV: the header of each column: its `name`, else the expression's text.
    public var columnNames: [String] = []
    /// Merged layout: a new file is started before a batch that would take the current
    /// one past `max_records` records or `max_bytes` bytes (a single batch larger than
    /// the limit still goes into one file).
    public var maxRecords: Int?
    public var maxBytes: Int?
    /// Partitioned layout: field paths (expressions) whose values name the directories.
    public var partitionBy: [String] = []
    /// Partitioned layout: the most partitions one run may write (each holds an open file).
    public var maxOpenPartitions: Int

    /// `format: parquet`: the schema and row-group settings (`parquet:`).
    public var parquet: ParquetOptions?
    /// Compiled `columns` and `partition_by`.
    package var compiledColumns: [CompiledExpression] = []
    package var compiledPartitions: [CompiledExpression] = []

    package init(format: Format, compression: OutputCompression, level: Int?, layout: Layout, maxOpenPartitions: Int) {
        self.format = format
        self.compression = compression
        self.level = level
        self.layout = layout
        self.maxOpenPartitions = maxOpenPartitions
    }

    /// The file extension, e.g. `ndjson.gz`.
    var fileExtension: String { format == .parquet ? "parquet" : format.rawValue + compression.suffix }
    var rotates: Bool { maxRecords != nil || maxBytes != nil }
}

/// One named output of `output.routes`.
public struct OutputRoute: Sendable {
    /// The route's name ("" for the single-output form).
    public var name: String
    /// `when:` — records for which it is true go here (first matching route wins);
    /// nil takes every record.
    public var condition: CompiledExpression?
    /// Directory relative to the output directory (`path`, default the route's name).
    public var directory: String
    public var spec: OutputSpec

    package init(name: String, condition: CompiledExpression?, directory: String, spec: OutputSpec) {
        self.name = name
        self.condition = condition
        self.directory = directory
        self.spec = spec
    }
}
