import Foundation

extension PipelineRun {
    /// What `run()` would read, for `--dry-run`: the scanned files left after the ledger,
    /// `input.min_age`, the retry cap and `on_change: skip`, in processing order.
    /// Takes no lock and writes nothing (it does not create the output directory or the
    /// ledger; a run interrupted by a crash is only recovered by the next real run).
    ///
    /// - Throws: ``InputError`` when the input directory cannot be listed, ``LedgerError``
    ///   when an existing ledger cannot be read.
    public func plannedFiles() throws -> (files: [InputFile], skipped: Int) {
        let inputRoot = options.inputPath ?? config.input.path
        let outputRoot = options.outputRoot(config: config)
        var scanned = try DirectoryScanner(root: inputRoot, include: config.input.include, exclude: config.input.exclude, symlinks: config.input.followSymlinks).scan()
        scanned = options.shardFiles(scanned)
        let ledgerPath = URL(fileURLWithPath: outputRoot).appendingPathComponent(Ledger.fileName).path
        let ledger = FileManager.default.fileExists(atPath: ledgerPath) ? try Ledger(directory: outputRoot) : nil
        let plan = try IncrementalPlan.make(files: scanned, ledger: ledger, pipeline: config.name, config: config.input.incremental,
                                            full: options.full, retryFailed: options.retryFailed, peers: options.peerLedgers(config: config))
        return (plan.items.map(\.file), plan.skipped)
    }
}
