import Foundation
import Logging
import Sluice

/// Sets up swift-log once: text (swift-log's stream handler) or JSON lines, on stderr,
/// at `level` (overridden by `SLUICE_LOG_LEVEL`).
func setUpLogging(json: Bool, level: Logger.Level) {
    let level = ProcessInfo.processInfo.environment["SLUICE_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? level
    LoggingSystem.bootstrap { label in
        if json {
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// The progress line on stderr, redrawn in place: cut to the terminal's width (a line
/// that wraps cannot be redrawn, and each refresh would leave one in the scrollback), and
/// led by a notice once a stop was asked for.
enum ProgressLine {
    private static let state = ProgressState()

    static func show(_ line: String) {
        var text = state.prefix + line
        // Two columns spare: the terminal echoes ^C after the line, which must not wrap it.
        if let width = terminalWidth(), text.count > width - 3 { text = String(text.prefix(max(1, width - 3))) }
        state.write("\r\u{1B}[K" + text, drawn: true)
    }

    static func clear() {
        state.write("\r\u{1B}[K", drawn: false)
    }

    /// Prints `message` on a line of its own above the progress line.
    static func note(_ message: String, prefix: String? = nil) {
        if let prefix { state.prefix = prefix }
        state.write("\r\u{1B}[K" + message + "\n", drawn: false)
    }

    /// Columns of the terminal on stderr (`COLUMNS` when it is not one), or nil.
    static func terminalWidth() -> Int? {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
    }
}

// Every stored property is read and written only while holding `lock`.
private final class ProgressState: @unchecked Sendable {
    private let lock = NSLock()
    private var _prefix = ""

    var prefix: String {
        get { lock.withLock { _prefix } }
        set { lock.withLock { _prefix = newValue } }
    }

    func write(_ text: String, drawn: Bool) {
        lock.withLock { FileHandle.standardError.write(Data(text.utf8)) }
    }
}

/// What `sluice run` says on SIGINT/SIGTERM: the first signal drains the files in flight,
/// the second stops them (see ``PipelineRun/requestStop(_:)``).
final class StopNotice: @unchecked Sendable {
    private let lock = NSLock()
    private var signals = 0
    private let grace: Double
    private let showsProgress: Bool
    private let speaks: Bool

    /// `speaks`: print the notices (a terminal or --verbose, not --quiet); under cron the
    /// run's own "stopped by SIGTERM" line says enough.
    init(grace: Double, showsProgress: Bool, speaks: Bool) {
        self.grace = grace
        self.showsProgress = showsProgress
        self.speaks = speaks
    }

    func received(_ signal: Int32) {
        let count = lock.withLock { () -> Int in
            signals += 1
            return signals
        }
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        let again = signal == SIGINT ? "Ctrl-C" : name
        guard speaks || showsProgress else { return }
        let message: String
        switch count {
        case 1:
            let seconds = grace == grace.rounded() ? String(Int(grace)) : String(grace)
            message = "sluice: \(name): taking no new file; the files in flight are finishing (up to shutdown_grace, \(seconds)s) "
                + "and will be committed. \(again) again stops them now."
        case 2:
            message = "sluice: \(name) again: stopping the files in flight now; the files already finished are still committed."
        default:
            return
        }
        if showsProgress {
            ProgressLine.note(message, prefix: count == 1 ? "finishing files in flight (\(again) again aborts) · " : "aborting · ")
        } else {
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
    }
}
