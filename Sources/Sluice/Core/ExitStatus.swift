#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exit codes of `sluice` (**contract**, see the README): named here once, so no
/// caller writes a bare number.
public enum ExitStatus {
    /// The run finished; record errors, if any, within the threshold.
    public static let success: Int32 = 0
    /// The run finished past the error threshold, or failed on a fatal I/O error.
    public static let failure: Int32 = 1
    /// A usage or config error.
    public static let usage: Int32 = 2
    /// The run committed, but some input files failed as a whole (their records are
    /// withheld; each is named on stderr and retried by the next run). The default of
    /// `errors.failed_files_exit`.
    public static let filesFailed: Int32 = 3
    /// Another run holds the output directory's lock.
    public static let lockHeld: Int32 = 4
    /// The ledger cannot be used (empty beside committed outputs, corrupt, unknown
    /// version): nothing was read or written.
    public static let ledgerRefused: Int32 = 5
    /// Stopped by a signal after a graceful drain: 128 + the signal number.
    public static func stopped(by signal: Int32) -> Int32 { 128 + signal }
    /// Stopped by SIGINT (Ctrl-C): 130.
    public static let interrupted: Int32 = stopped(by: SIGINT)
    /// Stopped by SIGTERM: 143.
    public static let terminated: Int32 = stopped(by: SIGTERM)
}
