/// One file found under the input directory, ready to be read — or a path that cannot be.
///
/// ``DirectoryScanner`` returns these sorted by the byte order of ``relativePath``; the
/// position in that list is the file index carried by every ``Batch`` read from it.
/// Entries that cannot be read as a regular file (a FIFO, a socket, a device, a symbolic
/// link loop, an unreadable file or directory) are still returned, with ``problem`` set,
/// so that they show up as `io` lines in the error report instead of vanishing.
public struct InputFile: Sendable, Equatable {
    /// Path relative to the input directory, with `/` separators (the error report's `file`).
    public var relativePath: String
    /// Path to open: the input directory joined with ``relativePath``.
    public var path: String
    /// Size in bytes as reported by `stat(2)`; 0 when ``problem`` is set.
    public var size: Int
    /// Modification time in nanoseconds since the Unix epoch; 0 when ``problem`` is set.
    public var mtime: Int
    /// Why the entry cannot be read, or nil for a readable regular file.
    public var problem: String?
    /// Where to start reading, for an NDJSON file that grew since a run processed it and
    /// whose old bytes are unchanged (see ``IncrementalPlan``); nil: from the start.
    public var start: ReadStart?
    /// True for the copy of standard input (`--input -`): the ledger records nothing of
    /// it — no done entry, no failure count — since the next run's standard input is
    /// another stream, whatever its name.
    public var isStandardInput = false

    public init(relativePath: String, path: String, size: Int, mtime: Int, problem: String? = nil) {
        self.relativePath = relativePath
        self.path = path
        self.size = size
        self.mtime = mtime
        self.problem = problem
    }
}

/// Where the read of a grown NDJSON file starts: after what an earlier run committed.
///
/// Made by ``GrowthScan`` from the file's old bytes, which it has hashed (they match the
/// ledger's fingerprint) and counted, so that the reader neither reads them again nor
/// numbers the new lines from 1.
public struct ReadStart: Sendable, Equatable {
    /// Byte of the file at which reading resumes: the old size (a compressed file: the
    /// frame boundary there), or the start of an unfinished last line of a plain file.
    public var offset: Int
    /// The file's size when the ledger recorded it.
    public var previousSize: Int
    /// 1-based line number, in the decoded file, of the first byte framed.
    public var line: Int
    /// Offset in the decoded file of the first byte framed (``carried`` included).
    public var decodedOffset: Int
    /// Decoded bytes before ``offset`` to frame first: the unfinished last line of a
    /// compressed file, when the new frames continue it.
    public var carried: [UInt8] = []
    /// The hash of the file's bytes before ``offset``, which the reader continues, so that
    /// the ledger's fingerprint stays that of the whole file.
    var hash: Fingerprint

    /// True when the reader has anything to skip; a start at byte 0 with nothing carried
    /// is a read from the beginning.
    package var skipsAnything: Bool { offset > 0 || !carried.isEmpty }
}
