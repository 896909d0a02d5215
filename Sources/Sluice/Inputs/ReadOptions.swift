import SluiceCore

/// How the records of an input file are delimited (the `input.format` key).
public enum InputFormat: String, Sendable, CaseIterable {
    /// Decided per file: by extension (ignoring a codec's suffix), else by the first byte (see ``FileReader``).
    case auto
    /// One JSON value per line.
    case ndjson
    /// A top-level JSON array (one record per element) or a single JSON value.
    case json
    /// XML records: the elements that `input.xml.record` selects (see ``XMLOptions``).
    case xml
}

/// Settings for framing one file into batches.
public struct ReadOptions: Sendable {
    /// How records are delimited.
    public var format: InputFormat
    /// Records per batch (`batch_size`); the last batch of a file may be shorter.
    public var batchSize: Int
    /// Largest record, in bytes (`max_record_bytes`); longer ones become `limit` errors.
    public var maxRecordBytes: Int
    /// A batch is closed early once its byte buffer passes this size.
    public var maxBatchBytes: Int
    /// Bytes per `read(2)` call, and per inflated chunk.
    public var chunkSize: Int
    /// How XML files map to records (`input.xml`).
    public var xml: XMLOptions
    /// Decoder limits and threads for compressed files (`input.max_window`).
    public var codecs = CodecOptions()
    /// How many files the run reads at once: `min(input.readers, files in the run)`, set by
    /// the run before its readers start (1 for a lone read). `input.xml.split: auto` splits
    /// a file over the cores left when that many files are read side by side, so whether a
    /// file is split is decided by the config and the file list, never by which reads
    /// happen to be running as it opens.
    public var concurrentFiles = 1
    /// Frame NDJSON by copying each record out of the decoder's buffer, as before the
    /// reader decoded into the batches' storage (tests compare the two).
    package var copiesDecodedBytes = false

    public init(format: InputFormat = .auto, batchSize: Int = 1024, maxRecordBytes: Int = 16 << 20,
                maxBatchBytes: Int = 4 << 20, chunkSize: Int = 256 << 10, xml: XMLOptions = XMLOptions()) {
        self.format = format
        self.xml = xml
        self.batchSize = max(1, batchSize)
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.chunkSize = max(2, chunkSize)
    }
}

/// What reading one file did.
public struct FileReadOutcome: Sendable, Equatable {
    /// Batches passed to `emit`.
    public var batches: Int
    /// Records in those batches.
    public var records: Int
    /// Bytes read from disk.
    public var fileBytes: Int
    /// Bytes after decoding (equal to ``fileBytes`` for plain files).
    public var decodedBytes: Int
    /// The file-level fault that stopped the file, or nil when it was read to the end.
    public var failure: RecordError?
    /// True when `emit` threw and reading stopped.
    public var cancelled: Bool
    /// The content fingerprint of the whole file (XXH64 of its raw bytes), when it was
    /// read to the end.
    public var fingerprint: UInt64? = nil
    /// What the reader noticed and accepted (zero padding after the last gzip member),
    /// one line each, for the run's log.
    public var warnings: [String] = []
    /// Seconds spent reading and decompressing (for the run's accounting).
    public var timing = ReadTiming()
    /// The segments an XML file was parsed in on several cores (`input.xml.split`), 0 when
    /// it was read by one parser.
    public var xmlSegments = 0
    /// Whether a helper thread inflated the file ahead of its reader (XML, with a core to
    /// spare: see ``FileReader/inflatesAhead(concurrentFiles:cores:)``).
    public var inflatedAhead = false

    public init(batches: Int = 0, records: Int = 0, fileBytes: Int = 0, decodedBytes: Int = 0, failure: RecordError? = nil, cancelled: Bool = false) {
        self.batches = batches
        self.records = records
        self.fileBytes = fileBytes
        self.decodedBytes = decodedBytes
        self.failure = failure
        self.cancelled = cancelled
    }
}

/// Where a file's read went, for the run's accounting. Not part of an outcome's identity:
/// two reads of the same file are equal whatever their timing.
public struct ReadTiming: Sendable, Equatable {
    /// Waiting for the next decoded chunk: reading and decompressing.
    public var decodeSeconds = 0.0

    public init() {}

    public static func == (_: ReadTiming, _: ReadTiming) -> Bool { true }
}
