/// The kinds of failure named in the error report (**contract**: the `kind` field).
public enum ErrorKind: String, Sendable, Codable, CaseIterable {
    /// The bytes are not valid JSON / XML, or the top-level value is not an object.
    case parse
    /// A `validate` rule failed.
    case validation
    /// An expression or conversion failed on this record.
    case transform
    /// The file could not be read, decompressed or opened.
    case io
    /// A time limit was exceeded.
    case timeout
    /// A size limit was exceeded (`max_record_bytes` and the like).
    case limit
}

/// What the error report shows in a line's `record` field.
public enum ErrorRecord: Sendable, Equatable {
    /// Nothing to show (file-level errors).
    case none
    /// The record's JSON text, valid JSON, written as is.
    case json([UInt8])
    /// Raw text that did not parse; written as a JSON string (invalid UTF-8 replaced).
    case raw([UInt8], truncated: Bool)
}

/// One line of the error report: a failed record or a failed file.
public struct RecordError: Sendable, Equatable {
    /// Path of the input file, relative to the input directory.
    public var file: String
    /// Name of the stage that failed it (`input` for reading, framing and parsing).
    public var stage: String
    public var kind: ErrorKind
    public var message: String
    /// 1-based line in the decompressed source, when the format has lines.
    public var line: Int?
    /// Byte offset: in the decompressed source for record errors, in the file itself for
    /// file-level decompression and I/O errors.
    public var offset: Int?
    public var record: ErrorRecord

    public init(file: String, stage: String, kind: ErrorKind, message: String, line: Int? = nil, offset: Int? = nil, record: ErrorRecord = .none) {
        self.file = file
        self.stage = stage
        self.kind = kind
        self.message = message
        self.line = line
        self.offset = offset
        self.record = record
    }
}
