import Foundation
import Logging
import SluiceIO
#if canImport(Glibc)
import Glibc
#endif

/// `input.on_success` / `input.on_failure`, after the ledger commit. A failure here is a
/// warning: the records are committed either way.
struct PostActions {
    let config: IncrementalConfig
    let logger: Logger

    func run(_ outcomes: [ReorderingSink.FileOutcome], files: [InputFile]) {
        for outcome in outcomes {
            let file = files[outcome.file]
            let action: IncrementalConfig.PostAction
            switch outcome.status {
            case .done: action = config.onSuccess
            case .failed: action = file.problem == nil ? config.onFailure : .keep
            case .unchanged: action = .keep
            }
            switch action {
            case .keep:
                continue
            case .delete:
                if unlink(file.path) != 0 {
                    logger.warning("cannot delete \(file.path): \(String(cString: strerror(errno)))")
                }
            case .move(let directory):
                let target = URL(fileURLWithPath: directory).appendingPathComponent(file.relativePath)
                try? FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if rename(file.path, target.path) != 0 {
                    logger.warning("cannot move \(file.path) to \(target.path): \(String(cString: strerror(errno)))")
                }
            }
        }
    }
}
