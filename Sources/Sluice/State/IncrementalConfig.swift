/// `input:` keys for incremental runs under cron: what the ledger skips, what happens
/// to a changed or failed file, and what is done to inputs after their run commits.
public struct IncrementalConfig: Sendable, Equatable {
    /// `input.min_age`: files modified less than this many seconds ago are left for a
    /// later run (they may still be being written). Default 0.
    public var minAge: Double
    /// `input.on_change`: a file the ledger holds whose size or mtime changed and whose
    /// content differs: `reprocess` (default) its records again, `skip` it, or `error`
    /// (one `io` error line; the file counts as failed).
    public var onChange: OnChange
    /// `input.max_retries`: a file that failed (with the same size and mtime) more than
    /// this many times after its first failure is skipped as poison, with a warning,
    /// until it changes or the run is given `--retry-failed`. Default 2.
    public var maxRetries: Int
    /// `input.on_success`: `keep` (default), `delete`, or `{ move: DIR }` for inputs whose
    /// records were committed, done after the ledger commit.
    public var onSuccess: PostAction = .keep
    /// `input.on_failure`: `keep` (default) or `{ move: DIR }` for inputs that failed.
    public var onFailure: PostAction = .keep

    /// Defaults: `init()` (Config), from the key table.
    package init(minAge: Double, onChange: OnChange, maxRetries: Int) {
        self.minAge = minAge
        self.onChange = onChange
        self.maxRetries = maxRetries
    }

    public enum OnChange: String, Sendable, CaseIterable { case reprocess, skip, error }

    public enum PostAction: Sendable, Equatable {
        case keep
        case delete
        /// Move under this directory, keeping the relative path.
        case move(String)
    }
}
