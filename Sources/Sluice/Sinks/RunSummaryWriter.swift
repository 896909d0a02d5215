import Foundation
import Logging

/// Writes a run's summary to `<output>/<name>-<run id>.summary.json` and `--summary`,
/// each through a temporary name and a rename. A failure to write is logged, never fatal.
struct RunSummaryWriter {
    let pipeline: String
    let runID: String
    let extraPath: String?
    let logger: Logger

    func write(_ summary: RunSummary, outputRoot: String) {
        let data = summary.encoded()
        var targets: [String] = []
        if FileManager.default.fileExists(atPath: outputRoot) {
            targets.append(URL(fileURLWithPath: outputRoot).appendingPathComponent("\(pipeline)-\(runID).summary.json").path)
        }
        if let extraPath { targets.append(extraPath) }
        for path in targets {
            // `.NAME.tmp-RUNID`, like every temporary output: a crash leaves nothing the next
            // run's sweep of the output directory does not remove.
            let url = URL(fileURLWithPath: path)
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(runID)").path
            do {
                try data.write(to: URL(fileURLWithPath: temporary))
                if rename(temporary, path) != 0 { throw SinkError.io(path: path, operation: "rename", errno: errno) }
            } catch {
                logger.error("cannot write run summary", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }
}
