/// Errors that stop input discovery before any file is read.
///
/// Problems with single files are not thrown: they are reported per file (see
/// ``InputFile/problem`` and ``FileReadOutcome/failure``).
public enum InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input directory does not exist.
    case rootNotFound(path: String)
    /// The input path exists but is neither a directory nor a regular file (a FIFO, a device).
    case rootNotDirectory(path: String)
    /// The input directory exists but cannot be listed.
    case rootUnreadable(path: String, reason: String)
    /// An `include` or `exclude` pattern is malformed.
    case invalidGlob(pattern: String, reason: String)

    public var description: String {
        switch self {
        case .rootNotFound(let path):
            return "input directory '\(path)' does not exist"
        case .rootNotDirectory(let path):
            return "input path '\(path)' is neither a directory nor a regular file"
        case .rootUnreadable(let path, let reason):
            return "input directory '\(path)' cannot be read: \(reason)"
        case .invalidGlob(let pattern, let reason):
            return "invalid glob pattern '\(pattern)': \(reason)"
        }
    }
}
