import Foundation
import SluiceIO

extension PipelineRun {
    /// What `run()` would read, for `--dry-run`: the scanned files left after the ledger
    /// (standard input as `-`, unread),
    /// `input.min_age`, the retry cap and `on_change: skip`, in processing order.
    /// Takes no lock and writes nothing (it does not create the output directory or the
    /// ledger; a run interrupted by a crash is only recovered by the next real run).
    ///
    /// - Throws: ``InputError`` when the input directory cannot be listed, ``LedgerError``
    ///   when an existing ledger cannot be read.
    public func plannedFiles() throws -> (files: [InputFile], skipped: Int) {
        let inputRoot = options.inputPath ?? config.input.path
        let outputRoot = options.outputRoot(config: config)
        let ledgerPath = URL(fileURLWithPath: outputRoot).appendingPathComponent(Ledger.fileName).path
        let ledger = FileManager.default.fileExists(atPath: ledgerPath) ? try Ledger(directory: outputRoot) : nil
        let plan = try planInput(root: inputRoot, ledger: ledger, spoolStandardInput: false).plan
        return (plan.items.map(\.file), plan.skipped)
    }
}
