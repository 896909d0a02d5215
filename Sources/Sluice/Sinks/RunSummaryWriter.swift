import Foundation
import Logging
import SluiceCore

/// Writes a run's summary to `<output>/<name>-<run id>.summary.json` and `--summary`,
/// each through a temporary name and a rename. A failure to write is logged, never fatal.
///
/// A run withheld by its error threshold (nothing committed) writes
/// `<name>-<run id>.failed-summary.json` instead: not a `*.summary.json`, so neither
/// `summary merge` globs nor the ledger's health check take it for a committed run.
package struct RunSummaryWriter {
    let pipeline: String
    let runID: String
    let extraPath: String?
    let logger: Logger
    var withheld = false

    package init(pipeline: String, runID: String, extraPath: String?, logger: Logger, withheld: Bool = false) {
        self.pipeline = pipeline
        self.runID = runID
        self.extraPath = extraPath
        self.logger = logger
        self.withheld = withheld
    }

    /// The summary's name in the output directory.
    static func fileName(pipeline: String, runID: String, withheld: Bool) -> String {
        "\(pipeline)-\(runID).\(withheld ? "failed-summary" : "summary").json"
    }

    package func write(_ summary: RunSummary, outputRoot: String) {
        let data = summary.encoded()
        var targets: [String] = []
        if FileManager.default.fileExists(atPath: outputRoot) {
            targets.append(URL(fileURLWithPath: outputRoot).appendingPathComponent(Self.fileName(pipeline: pipeline, runID: runID, withheld: withheld)).path)
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
                logger.error("cannot write run summary", metadata: ["path": "\(path)", "error": "\(error)"], source: logSource)
            }
        }
    }
}
