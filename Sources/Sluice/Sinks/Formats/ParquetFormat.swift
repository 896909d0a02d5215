import SluiceCore

/// `format: parquet`: typed columns from `output.parquet.schema`, written by Sluice's
/// own Parquet writer (see Sinks/Parquet/).
struct ParquetFormat: FileFormat {
    /// What a writer needs: the schema, row-group limits and the page codec.
    struct Settings: Sendable {
        var columns: [ParquetColumn]
        var leaves: [ParquetLeaf]
        var rowGroupRows: Int
        var rowGroupBytes: Int
        var dictionaryBytes: Int
        var codec: ParquetCodec
        var level: Int
    }

    let settings: Settings
    let converter: ParquetRecordConverter

    init(spec: OutputSpec) {
        let options = spec.parquet ?? ParquetOptions()
        let codec = options.codec ?? (spec.compression == .gzip ? .gzip : .none)
        let level = spec.level ?? (options.codec == .zstd ? 3 : 6)
        settings = Settings(columns: options.columns, leaves: ParquetLeaf.leaves(of: options.columns),
                            rowGroupRows: options.rowGroupRows, rowGroupBytes: options.rowGroupBytes,
                            dictionaryBytes: options.dictionaryBytes, codec: codec, level: level)
        converter = ParquetRecordConverter(columns: options.columns)
    }

    func makeRows() -> any FileFormatRows {
        ParquetRows(leafCount: settings.leaves.count)
    }

    func add(_ root: Int, in view: JSONView, to rows: any FileFormatRows) throws(OutputRecordError) {
        guard let rows = rows as? ParquetRows else { preconditionFailure("parquet rows expected") }
        rows.scratch.removeAll(keepingCapacity: true)
        try converter.entries(root, in: view, into: &rows.scratch)
        rows.commit(rows.scratch)
    }

    func makeWriter(runID: String) -> any FileFormatWriter {
        ParquetFileWriter(settings: settings, runID: runID)
    }
}

extension OutputSpec {
    /// What this output buffers beyond the batches in flight: a file format's row group
    /// per open file (one, or `max_open_partitions` when partitioned) and the encoded
    /// group while it is written; 0 for row formats. For `sluice explain`'s memory
    /// bound (the runtime's plan adds it per route).
    package var bufferedBytesBound: Int {
        guard format == .parquet else { return 0 }
        let group = (parquet ?? ParquetOptions()).rowGroupBytes
        let open = layout == .partitioned ? maxOpenPartitions : 1
        return open * group + group
    }
}
