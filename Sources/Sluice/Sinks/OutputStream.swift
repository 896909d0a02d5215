import Foundation

/// One output stream: a file, or — with `max_records` / `max_bytes` — a sequence of
/// numbered parts (`NAME-RUNID-0001.ndjson.gz`, ...), each written under a temporary
/// name and renamed into place at commit.
///
/// The stream writes the framing the encoder cannot know: a file's first bytes (`[`, a
/// CSV header), the separator between two batches of a JSON array, and the last bytes
/// (`]`). Under gzip each framing piece is its own small gzip member, so the file still
/// decompresses to exactly the single-threaded text, and the bytes depend only on the
/// batch boundaries, never on timing.
///
/// Rollback: ``checkpoint()`` before an input file, ``rollBack(to:)`` if it fails — parts
/// started since are removed and the part it began in is cut back (reopened if a
/// rotation had sealed it), so a failed file contributes nothing even across a rotation.
final class OutputStream {
    struct Framing {
        var header: [UInt8]
        var separator: [UInt8]
        var footer: [UInt8]
        /// An empty frame of the codec: what a compressed file with no bytes holds.
        var empty: [UInt8]

        init(spec: OutputSpec) {
            let plain = RecordFormats.framing(spec)
            header = spec.encode(plain.header)
            separator = spec.encode(plain.separator)
            footer = spec.encode(plain.footer)
            empty = spec.encode([], keepsEmpty: true)
        }
    }

    struct Checkpoint {
        var parts: Int
        var size: Int
        var records: Int
        var total: Int
    }

    /// Absolute directory and the name without extension (`orders-RUNID`).
    let directory: String
    let baseName: String
    let spec: OutputSpec
    let framing: Framing
    let runID: String
    /// Creates the directories parts go in, remembering them for the commit.
    let directories: OutputDirectories
    private(set) var parts: [OutputFile] = []
    /// Records in the current (last) part.
    private var partRecords = 0
    private(set) var records = 0

    init(directory: String, baseName: String, spec: OutputSpec, framing: Framing, runID: String, directories: OutputDirectories) {
        self.directory = directory
        self.baseName = baseName
        self.spec = spec
        self.framing = framing
        self.runID = runID
        self.directories = directories
    }

    /// Final paths of the parts.
    var paths: [String] { parts.map(\.path) }
    var bytesWritten: Int { parts.reduce(0) { $0 + $1.size } }

    private func openPart() throws(SinkError) {
        let ext = spec.fileExtension
        let name = spec.rotates ? "\(baseName)-\(String(format: "%04d", parts.count + 1)).\(ext)" : "\(baseName).\(ext)"
        let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        try directories.create(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let file = try OutputFile(path: path, runID: runID)
        try file.write(framing.header)
        parts.append(file)
        partRecords = 0
    }

    /// Appends one batch's encoded records, starting a new part first when the current
    /// one would pass a limit.
    func append(_ bytes: [UInt8], records count: Int) throws(SinkError) {
        if parts.isEmpty {
            try openPart()
        } else if partRecords > 0, let current = parts.last {
            let overRecords = spec.maxRecords.map { partRecords + count > $0 } ?? false
            let overBytes = spec.maxBytes.map { current.size + framing.separator.count + bytes.count > $0 } ?? false
            if overRecords || overBytes {
                try current.write(framing.footer)
                try current.seal()
                try openPart()
            }
        }
        if partRecords > 0 { try parts[parts.count - 1].write(framing.separator) }
        try parts[parts.count - 1].write(bytes)
        partRecords += count
        records += count
    }

    func checkpoint() -> Checkpoint {
        Checkpoint(parts: parts.count, size: parts.last?.size ?? 0, records: partRecords, total: records)
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
    }

    /// Ends the last part (opening an empty one if there is none, so that a merged
    /// output always exists) and seals it.
    func finish() throws(SinkError) {
        if parts.isEmpty { try openPart() }
        guard let last = parts.last, !last.isSealed else { return }
        try last.write(framing.footer)
        if last.size == 0 { try last.write(framing.empty) } // `gzip -t` refuses a 0-byte .gz
        try last.seal()
    }

    func discard() {
        for part in parts { part.discard() }
    }
}
