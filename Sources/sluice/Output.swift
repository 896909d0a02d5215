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

/// The progress line on stderr, redrawn in place.
enum ProgressLine {
    static func show(_ line: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    static func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
