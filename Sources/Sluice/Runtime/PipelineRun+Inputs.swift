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
                                            full: options.full, retryFailed: options.retryFailed, peers: options.peerLedgers(config: config),
                                            growth: Self.growth(config))
        return PlannedInput(seen: scanned.count, plan: plan, standardInput: nil)
    }

    /// Where a grown file of `config`'s input resumes (see ``GrowthScan``), or nil to read
    /// it whole. A mirror output holds all of its input's records and a rerun replaces it:
    /// there a grown file is read again whole, never from where it stopped.
    static func growth(_ config: PipelineConfig) -> (InputFile, Ledger.Entry) -> ReadStart? {
        let input = config.input
        let resumes = !config.output.effectiveRoutes.contains { $0.spec.layout == .mirror }
        return { file, entry in
            guard resumes else { return nil }
            return GrowthScan.start(of: file, previous: entry, format: input.format, codecs: input.codecs, maxRecordBytes: input.maxRecordBytes)
        }
    }

    /// The files of `files` a run of `config` would process with `ledger` (as
    /// `sluice ledger rebuild` lists them), a grown file with its ``InputFile/start``.
    public static func filesToProcess(_ files: [InputFile], ledger: Ledger, config: PipelineConfig) throws -> [InputFile] {
        try IncrementalPlan.make(files: files, ledger: ledger, pipeline: config.name, config: config.input.incremental,
                                 full: false, retryFailed: false, growth: growth(config)).items.map(\.file)
    }

    /// How a run, `--dry-run` and the log name a grown file it reads from where it stopped:
    /// `day.ndjson: grew 1200 → 1800 bytes: reading from byte 1200 (line 31)`.
    public static func growthNote(_ file: InputFile, _ start: ReadStart) -> String {
        "\(file.relativePath): grew \(start.previousSize) → \(file.size) bytes: reading from byte \(start.offset) (line \(start.line))"
    }
}
