import Foundation
import SluiceIO

extension PipelineRun {
    /// The input of a run, listed and planned: a directory scanned (include, exclude,
    /// shard) or a single regular file (see ``DirectoryScanner``), then passed through the
    /// ledger (``IncrementalPlan``); or standard input (`-`, see ``StandardInput``),
    /// copied to a temporary file and always processed — the ledger does not skip it.
    struct PlannedInput {
        /// Files listed before the ledger had its say (the summary's `files.seen`).
        var seen: Int
        var plan: IncrementalPlan
        /// The copy of standard input, to remove when the run ends.
        var standardInput: StandardInput?
    }

    /// Lists and plans the run's input. With `spoolStandardInput` false (`--dry-run`),
    /// standard input is listed as `-` (size 0) without being read.
    func planInput(root: String, ledger: Ledger?, spoolStandardInput: Bool = true) throws -> PlannedInput {
        if root == StandardInput.path {
            var plan = IncrementalPlan()
            guard spoolStandardInput else {
                plan.items = [.init(file: InputFile(relativePath: StandardInput.path, path: StandardInput.path, size: 0, mtime: 0))]
                return PlannedInput(seen: 1, plan: plan, standardInput: nil)
            }
            let spooled = try StandardInput.spool()
            plan.items = [.init(file: spooled.file)]
            return PlannedInput(seen: 1, plan: plan, standardInput: spooled)
        }
        var scanned = try DirectoryScanner(root: root, include: config.input.include, exclude: config.input.exclude,
                                           symlinks: config.input.followSymlinks).scan()
        scanned = options.shardFiles(scanned)
        let plan = try IncrementalPlan.make(files: scanned, ledger: ledger, pipeline: config.name, config: config.input.incremental,
                                            full: options.full, retryFailed: options.retryFailed, peers: options.peerLedgers(config: config))
        return PlannedInput(seen: scanned.count, plan: plan, standardInput: nil)
    }
}
