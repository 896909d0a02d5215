import Foundation

/// One output stream: a file, or — with `max_records` / `max_bytes` — a sequence of
/// numbered parts (`NAME-RUNID-0001.ndjson.gz`, ...), each written under a temporary
/// name and renamed into place at commit.
///
/// The stream writes the framing the encoder cannot know: a file's first bytes (`[`, a
/// CSV header), the separator between two batches of a JSON array, and the last bytes
/// (`]`). Under gzip each framing piece is its own small gzip member, so the file still
/// decompresses to exactly the single-threaded text, and the bytes depend only on the
/// batch boundaries, never on timing. A file format's writer (see ``FileFormatWriter``)
/// writes its own start, row groups and footer.
///
/// Rollback: ``checkpoint()`` before an input file, ``rollBack(to:)`` if it fails — parts
/// started since are removed and the part it began in is cut back (reopened if a
/// rotation had sealed it), so a failed file contributes nothing even across a rotation.
final class OutputStream {
    /// How a file of one output is written: a row format's constant framing (each piece
    /// a gzip member under gzip), or a file format's writer.
    package enum Framing {
        case rows(header: [UInt8], separator: [UInt8], footer: [UInt8], emptyFile: [UInt8])
        case file(any FileFormat)

        init(spec: OutputSpec) {
            switch OutputFormat(spec: spec) {
            case .row(let format):
                func encode(_ bytes: [UInt8], always: Bool = false) -> [UInt8] { spec.encode(bytes, keepsEmpty: always) }
                let header = encode(format.header), footer = encode(format.footer)
                // A file with no record is still a valid file of its format: under a codec at
                // least one (empty) member or frame, which `gzip -t` / `zstd -t` accept.
                let empty = header.isEmpty && footer.isEmpty ? encode([], always: true) : []
                self = .rows(header: header, separator: encode(format.recordSeparator), footer: footer, emptyFile: empty)
            case .file(let format):
                self = .file(format)
            }
        }
    }

    struct Checkpoint {
        var parts: Int
        var size: Int
        package var records: Int
        var total: Int
        /// The last part's file-format writer as it was.
        var writer: (any FileFormatWriter)?
    }

    /// Absolute directory and the name without extension (`orders-RUNID`).
    let directory: String
    let baseName: String
    let spec: OutputSpec
    package let framing: Framing
    let runID: String
    /// Creates the directories parts go in, remembering them for the commit.
    package let directories: OutputDirectories
    private(set) var parts: [OutputFile] = []
    /// The last part's writer (file formats).
    private var writer: (any FileFormatWriter)?
    /// Records in the current (last) part.
    private var partRecords = 0
    package private(set) var records = 0

    init(directory: String, baseName: String, spec: OutputSpec, framing: Framing, runID: String, directories: OutputDirectories) {
        self.directory = directory
        self.baseName = baseName
        self.spec = spec
        self.framing = framing
        self.runID = runID
        self.directories = directories
    }

    /// Final paths of the parts.
    package var paths: [String] { parts.map(\.path) }
    var bytesWritten: Int { parts.reduce(0) { $0 + $1.size } }

    private func openPart() throws(SinkError) {
        let ext = spec.fileExtension
        let name = spec.rotates ? "\(baseName)-\(String(format: "%04d", parts.count + 1)).\(ext)" : "\(baseName).\(ext)"
        let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        try directories.create(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let file = try OutputFile(path: path, runID: runID)
        switch framing {
        case .rows(let header, _, _, _):
            try file.write(header)
        case .file(let format):
            var writer = format.makeWriter(runID: runID)
            try file.write(try writer.start())
            self.writer = writer
        }
        parts.append(file)
        partRecords = 0
    }

    /// Writes the current part's last bytes and seals it.
    private func endPart(_ part: OutputFile) throws(SinkError) {
        switch framing {
        case .rows(_, _, let footer, let emptyFile):
            try part.write(part.size == 0 ? emptyFile : footer)
        case .file:
            if var writer {
                try part.write(try writer.finish())
                self.writer = writer
            }
        }
        try part.seal()
    }

    /// Appends one batch's encoded records, starting a new part first when the current
    /// one would pass a limit.
    func append(_ piece: OutputPiece) throws(SinkError) {
        let count = piece.records
        if parts.isEmpty {
            try openPart()
        } else if partRecords > 0, let current = parts.last {
            let overRecords = spec.maxRecords.map { partRecords + count > $0 } ?? false
            let overBytes = spec.maxBytes.map { maxBytes in
                switch framing {
                case .rows(_, let separator, _, _): return current.size + separator.count + piece.bytes.count > maxBytes
                case .file: return current.size + (writer?.bufferedBytes ?? 0) + (piece.rows?.byteSize ?? 0) > maxBytes
                }
            } ?? false
            if overRecords || overBytes {
                try endPart(current)
                try openPart()
            }
        }
        let part = parts[parts.count - 1]
        switch framing {
        case .rows(_, let separator, _, _):
            if partRecords > 0 { try part.write(separator) }
            try part.write(piece.bytes)
        case .file:
            if var writer, let rows = piece.rows {
                self.writer = nil  // one owner while it mutates (no copy of its buffers)
                let bytes = try writer.append(rows)
                self.writer = writer
                if !bytes.isEmpty { try part.write(bytes) }
            }
        }
        partRecords += count
        records += count
    }

    func checkpoint() -> Checkpoint {
        Checkpoint(parts: parts.count, size: parts.last?.size ?? 0, records: partRecords, total: records, writer: writer)
    }

    /// Removes what was appended since `checkpoint`.
    func rollBack(to checkpoint: Checkpoint) throws(SinkError) {
        while parts.count > checkpoint.parts {
            parts.removeLast().discard()
        }
        if let last = parts.last {
            if last.isSealed || last.size > checkpoint.size {
                try last.reopen(truncatingTo: checkpoint.size)
            }
        }
        partRecords = checkpoint.records
        records = checkpoint.total
        writer = parts.isEmpty ? nil : checkpoint.writer
    }

    /// Ends the last part (opening an empty one if there is none, so that a merged
    /// output always exists) and seals it.
    func finish() throws(SinkError) {
        if parts.isEmpty { try openPart() }
        guard let last = parts.last, !last.isSealed else { return }
        try endPart(last)
    }

    package func discard() {
        for part in parts { part.discard() }
    }
}
