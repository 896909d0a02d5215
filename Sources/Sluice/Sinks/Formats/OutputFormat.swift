import SluiceCore

/// The seam every output format plugs into (one file per format, one registration
/// list: ``OutputFormats/all``).
///
/// - A **row format** (NDJSON, JSON array, CSV) turns each record into bytes on the
///   encoding workers; a file is its header, the batches' bytes joined by the record
///   separator, and its footer — constant bytes the sink writes (``OutputStream``).
/// - A **file format** (Parquet) turns a batch's records into typed rows on the
///   workers; a writer on the sink thread buffers them (a row group), writes them when
///   a group is full, and computes the footer at close. The writer is a value: a copy
///   is a checkpoint, so a failed input file rolls back whatever it buffered or wrote.
enum OutputFormat: Sendable {
    case row(any RowFormat)
    case file(any FileFormat)

    /// The format of `spec`, from the registration list.
    init(spec: OutputSpec) {
        guard let make = OutputFormats.all.first(where: { $0.format == spec.format })?.make else {
            preconditionFailure("output format \(spec.format.rawValue) is not registered in OutputFormats.all")
        }
        self = make(spec)
    }
}

/// Every output format, by its `output.format` name.
enum OutputFormats {
    package static let all: [(format: OutputSpec.Format, make: @Sendable (OutputSpec) -> OutputFormat)] = [
        (.ndjson, { _ in .row(NDJSONFormat()) }),
        (.json, { _ in .row(JSONArrayFormat()) }),
        (.csv, { .row(CSVFormat(spec: $0)) }),
        (.parquet, { .file(ParquetFormat(spec: $0)) }),
    ]
}

/// Why one record could not be encoded for its output: an error line of stage `output`.
struct OutputRecordError: Error, Sendable {
    var kind: ErrorKind
    var message: String
}

/// A format that writes each record as bytes.
protocol RowFormat: Sendable {
    /// What a file begins with (uncompressed).
    var header: [UInt8] { get }
    /// What goes between two records, also between two batches (JSON's `,\n`).
    var recordSeparator: [UInt8] { get }
    /// What ends each record (NDJSON's newline, CSV's CRLF).
    var recordTerminator: [UInt8] { get }
    /// What a file ends with.
    var footer: [UInt8] { get }
    /// Whether a record's bytes are its compact JSON text: then a single unconditional
    /// output copies records without indexing them (the encoder's fast path).
    var writesRecordText: Bool { get }
    /// Appends record `root` (without separator or terminator).
    func appendRecord(_ root: Int, in view: JSONView, to out: inout [UInt8]) throws(OutputRecordError)
}

extension RowFormat {
    func appendRecord(_ root: Int, in view: JSONView, to out: inout [UInt8]) throws(OutputRecordError) {
        appendCompact(view.rawBytes(root), to: &out)
    }
}

/// A batch's records for one output of a file format, built on an encoding worker and
/// handed to the sink (never touched by the worker again).
protocol FileFormatRows: AnyObject, Sendable {
    var count: Int { get }
    /// Bytes the rows take in memory, roughly (row-group limits, `max_bytes`).
    var byteSize: Int { get }
}

/// A format whose file has a structure around its records (Parquet's row groups and
/// footer).
protocol FileFormat: Sendable {
    /// Empty rows to add a batch's records to.
    func makeRows() -> any FileFormatRows
    /// Adds record `root` to `rows`, all of it or nothing (a record that fails adds no
    /// value to any column).
    func add(_ root: Int, in view: JSONView, to rows: any FileFormatRows) throws(OutputRecordError)
    /// A writer for one file (part) of a run.
    func makeWriter(runID: String) -> any FileFormatWriter
}

/// Writes one file of a file format. A value type: the sink keeps a copy as the
/// checkpoint it rolls back to.
protocol FileFormatWriter: Sendable {
    /// The file's first bytes.
    mutating func start() throws(SinkError) -> [UInt8]
    /// Takes one batch's rows; returns bytes to append now (a finished row group) or none.
    mutating func append(_ rows: any FileFormatRows) throws(SinkError) -> [UInt8]
    /// The rest of the file: the buffered rows and the footer.
    mutating func finish() throws(SinkError) -> [UInt8]
    /// Bytes buffered and not yet written.
    var bufferedBytes: Int { get }
}
