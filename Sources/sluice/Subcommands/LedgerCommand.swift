import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice ledger check|rebuild CONFIG`: inspect or rebuild the ledger of an output directory.
    struct LedgerCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger",
            abstract: "Check the ledger of a pipeline's output directory, or rebuild it from its journal.",
            subcommands: [Check.self, Rebuild.self])

        struct Location: ParsableArguments {
            @Argument(help: "The pipeline config (YAML).")
            var config: String

            @Option(help: "The output directory instead of output.path.")
            var output: String?

            @Option(help: ArgumentHelp("The shard's ledger (OUTPUT/shard-I-of-N).", valueName: "I/N"))
            var shard: String?

            @OptionGroup var overrides: ConfigOverrides

            func resolve() throws -> (PipelineConfig, String) {
                let pipeline = try loadConfig(config, overrides: overrides.values)
                var shardValue: Shard?
                if let shard {
                    guard let parsed = Shard(parsing: shard) else { throw ValidationError("--shard: expected I/N, got '\(shard)'") }
                    shardValue = parsed
                }
                return (pipeline, RunChecks.outputRoot(pipeline, output: output, shard: shardValue))
            }
        }

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "check",
                abstract: "Say whether a run could use the ledger; exit 5 when it would refuse it.")

            @OptionGroup var location: Location

            func run() throws {
                let (_, root) = try location.resolve()
                let path = URL(fileURLWithPath: root).appendingPathComponent(Ledger.fileName).path
                do {
                    try Ledger.check(directory: root)
                } catch {
                    printError("sluice: \(error)")
                    throw ExitCode(RunExit.ledgerRefused)
                }
                if FileManager.default.fileExists(atPath: path) {
                    print("\(path): ok")
                } else {
                    print("\(path): none yet (the next run makes it)")
                }
            }
        }

        struct Rebuild: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "rebuild",
                abstract: "Make a new ledger from the ledger journal; the old file is kept beside it.",
                discussion: """
                    Restores as done every file of a committed run (or of an interrupted run whose \
                    outputs are all in place) whose outputs still exist, then lists the input files \
                    the next run would process. Takes the run lock. With --dry-run, changes nothing.
                    """)

            @OptionGroup var location: Location

            @Flag(help: "Only show what a rebuild would restore and what the next run would process.")
            var dryRun = false

            @Flag(help: "With no journal, make an empty ledger (the next run processes every file again).")
            var empty = false

            func run() throws {
                let (pipeline, root) = try location.resolve()
                let lock: RunLock
                do {
                    lock = try RunLock.acquire(directory: root, wait: 0)
                } catch {
                    printError("sluice: \(error)")
                    if case .held = error { throw ExitCode(4) }
                    throw ExitCode(1)
                }
                defer { lock.release() }
                let report: Ledger.RebuildReport
                do {
                    report = try Ledger.rebuild(directory: root, allowEmpty: empty, dryRun: dryRun)
                } catch {
                    printError("sluice: \(error)")
                    throw ExitCode(error.isRefusal ? RunExit.ledgerRefused : 1)
                }
                let verb = dryRun ? "would restore" : "restored"
                print("\(verb) \(report.files) done file\(report.files == 1 ? "" : "s") from \(report.runs) run\(report.runs == 1 ? "" : "s")")
                for path in report.lostFiles { print("  output gone, processed again: \(path)") }
                if let aside = report.movedAside { print("the old ledger is now \(aside)") }
                do {
                    let ledgerDirectory = URL(fileURLWithPath: report.ledgerPath).deletingLastPathComponent().path
                    defer { if dryRun { try? FileManager.default.removeItem(atPath: ledgerDirectory) } }
                    let ledger = try Ledger(directory: ledgerDirectory)
                    let scanned = try DirectoryScanner(root: pipeline.input.path, include: pipeline.input.include,
                                                       exclude: pipeline.input.exclude, symlinks: pipeline.input.followSymlinks).scan()
                    let todo = try PipelineRun.filesToProcess(scanned, ledger: ledger, config: pipeline)
                    print("the next run would process \(todo.count) of \(scanned.count) input files\(todo.isEmpty ? "" : ":")")
                    for file in todo { print("  " + (file.start.map { PipelineRun.growthNote(file, $0) } ?? file.relativePath)) }
                } catch {
                    printError("sluice: cannot list the input files: \(error)")
                }
            }
        }
    }
}
