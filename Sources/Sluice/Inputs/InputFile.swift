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

    public init(relativePath: String, path: String, size: Int, mtime: Int, problem: String? = nil) {
        self.relativePath = relativePath
        self.path = path
        self.size = size
        self.mtime = mtime
        self.problem = problem
    }
}
