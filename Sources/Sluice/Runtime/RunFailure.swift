#if canImport(Glibc)
import Glibc
import SluiceCore
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a run did not succeed, with the exit code that says so (see ``ExitStatus``).
///
/// The summary stores both (`exit_code`, `failure`); the CLI prints ``message`` and exits
/// with ``exitCode``. Make one with a factory so the code and the words always agree.
public struct RunFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var exitCode: Int32
    public var message: String

    public init(exitCode: Int32, message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    public var description: String { message }

    /// A fatal I/O error, a cancelled run, a stage that stopped the run: exit 1.
    public static func fatal(_ message: String) -> RunFailure {
        RunFailure(exitCode: ExitStatus.failure, message: message)
    }

    /// The run finished past `errors.max_errors` / `errors.max_error_rate`: exit 1.
    public static func thresholdExceeded(_ message: String) -> RunFailure {
        RunFailure(exitCode: ExitStatus.failure, message: message)
    }

    /// Another run holds the lock: exit 4 (and nothing is written to its directory).
    public static func lockHeld(_ message: String) -> RunFailure {
        RunFailure(exitCode: ExitStatus.lockHeld, message: message)
    }

    /// Stopped by a signal after a graceful drain: 128 + the signal.
    public static func stopped(signal number: Int32, filesLeft: Int) -> RunFailure {
        let name = number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
        return RunFailure(exitCode: ExitStatus.stopped(by: number),
                          message: "stopped by \(name): \(filesLeft) files left for the next run")
    }
}
