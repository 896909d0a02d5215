import ArgumentParser
import Foundation
import Logging
import Sluice

extension SluiceCommand {
    /// `sluice run CONFIG`: one run of the pipeline.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a pipeline over its input directory.",
            discussion: """
                Writes the output records, the error report and a run summary under the \
                output directory, and records the files it processed in the ledger there, \
                so that the next run skips them. Quiet when stdout is not a terminal (cron): \
                nothing on stdout, warnings and errors on stderr (one line for every file that \
                failed). Exit 0, 1 (error threshold exceeded or fatal I/O), 2 (config or usage \
                error), 3 (committed, but some files failed), 4 (another run holds the lock), \
                5 (the ledger is unusable; see `sluice ledger`), 130/143 (stopped by \
                SIGINT/SIGTERM after a graceful drain).
                """)

        @Argument(help: "The pipeline config (YAML).")
        var config: String

        @Option(help: ArgumentHelp("Read this directory, this one file, or standard input (-) instead of input.path.", valueName: "path"))
        var input: String?

        @Option(help: ArgumentHelp("Record format instead of input.format: auto, ndjson, json or xml (gzip is detected either way).", valueName: "format"))
        var format: String?

        @Option(help: "Write under this directory instead of output.path.")
        var output: String?

        @Option(help: "Also write the run summary JSON to this file.")
        var summary: String?

        @OptionGroup var overrides: ConfigOverrides

        @Flag(help: "Process every file, whatever the ledger says.")
        var full = false

        @Flag(help: "Also retry files skipped for failing more than input.max_retries times.")
        var retryFailed = false

        @Flag(help: "List the files this run would process, with sizes, and exit.")
        var dryRun = false

        @Option(help: ArgumentHelp("Wait this long for another run's lock instead of exiting 4 (e.g. 10m).", valueName: "duration"))
        var waitLock: String?

        @Option(help: ArgumentHelp("Take no new file after this long; finish those in flight and exit 0 (e.g. 50m).", valueName: "duration"))
        var maxRuntime: String?

        @Option(help: ArgumentHelp("Write Prometheus metrics here (atomically, during the run and at its end).", valueName: "file"))
        var metricsFile: String?

        @Option(help: "Progress line on stderr: auto (on a terminal), always or never.")
        var progress: ProgressMode = .auto

        @Option(help: "Log lines as text or json (one object per line), on stderr.")
        var logFormat: LogFormat = .text

        @Option(help: ArgumentHelp("Process only shard I of N (0-based; files split by bytes over the whole listing; files done in any other shard's ledger are skipped), under OUTPUT/shard-I-of-N/.", valueName: "I/N"))
        var shard: String?

        @Option(help: ArgumentHelp("The job this run is a shard of, recorded in its summary for `summary merge --check` (default: $SLURM_ARRAY_JOB_ID when set).", valueName: "id"))
        var jobId: String?

        @Option(help: ArgumentHelp("Exit code of a run that committed but had failed files (default: errors.failed_files_exit, itself 3 by default; 0 for job systems that count any other code as a failed job).", valueName: "code"))
        var failedFilesExit: Int32?

        @Flag(help: "Also write the run's HTML report (NAME-RUNID.report.html, see `sluice report`) beside its summary.")
        var report = false

        @Flag(help: "Only errors on stderr; nothing on stdout.")
        var quiet = false

        @Flag(help: "Info logs, and the summary line on stdout even when it is not a terminal.")
        var verbose = false

        enum ProgressMode: String, ExpressibleByArgument, CaseIterable { case auto, always, never }
        enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

        func validate() throws {
            if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
            if let failedFilesExit, !(0...255).contains(failedFilesExit) { throw ValidationError("--failed-files-exit: expected 0…255, got \(failedFilesExit)") }
            if let format, InputFormat(rawValue: format) == nil {
                throw ValidationError("--format: expected one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(format)'")
            }
            if shard != nil && input == StandardInput.path { throw ValidationError("--shard cannot split standard input (--input -)") }
            if let shard, Shard(parsing: shard) == nil {
                throw ValidationError("--shard: expected I/N with 0 ≤ I < N (e.g. 0/4), got '\(shard)'")
            }
            for (flag, value) in [("--wait-lock", waitLock), ("--max-runtime", maxRuntime)] {
                if let value, parseDuration(value) == nil {
                    throw ValidationError("\(flag): \(durationProblem(value))")
                }
            }
        }

        func run() throws {
            setUpLogging(json: logFormat == .json, level: quiet ? .error : verbose ? .info : .notice)
            var pipeline = try loadConfig(config, overrides: overrides.values)
            if let format = format.flatMap(InputFormat.init(rawValue:)) { pipeline.input.format = format }
            let logger = Logger(label: "sluice")
            var options = RunOptions(inputPath: input, outputPath: output, summaryPath: summary)
            options.full = full
            options.retryFailed = retryFailed
            options.waitLock = waitLock.flatMap(parseDuration) ?? 0
            options.maxRuntime = maxRuntime.flatMap(parseDuration)
            options.metricsPath = metricsFile
            options.shard = shard.flatMap(Shard.init(parsing:))
            options.jobID = jobId ?? ProcessInfo.processInfo.environment["SLURM_ARRAY_JOB_ID"].flatMap { $0.isEmpty ? nil : $0 }
            let showProgress = progress == .always || (progress == .auto && isatty(STDERR_FILENO) == 1 && !quiet)
            if showProgress { options.progress = { line in ProgressLine.show(line) } }
            let run = PipelineRun(config: pipeline, options: options, logger: logger)
            // Before the output directory, lock, ledger or summary exist: a wrong input path
            // or an unusable ledger must leave nothing behind.
            if let problem = RunChecks.inputProblem(input ?? pipeline.input.path, fromCommandLine: input != nil, config: pipeline) {
                printError("sluice: \(problem)")
                throw ExitCode(1)
            }
            do {
                try Ledger.check(directory: RunChecks.outputRoot(pipeline, output: output, shard: options.shard))
            } catch {
                printError("sluice: \(error)")
                throw ExitCode(RunExit.ledgerRefused)
            }

            if dryRun {
                if let warning = try? DirectoryScanner(root: input ?? pipeline.input.path, include: pipeline.input.include,
                                                       exclude: pipeline.input.exclude, symlinks: pipeline.input.followSymlinks).unmatchedIncludeWarning() {
                    printError("sluice: warning: \(warning)")
                }
                let planned: (files: [InputFile], skipped: Int)
                do {
                    planned = try run.plannedFiles()
                } catch {
                    printError("sluice: \(error)")
                    throw ExitCode(ExitStatus.failure)
                }
                for file in planned.files {
                    print("\(file.size)\t\(file.relativePath)" + (file.start.map { "\t" + PipelineRun.growthNote(file, $0) } ?? ""))
                }
                let total = planned.files.reduce(0) { $0 + $1.size }
                printError("\(planned.files.count) files, \(total) bytes to process; \(planned.skipped) skipped")
                return
            }

            let notice = StopNotice(grace: pipeline.shutdownGrace, showsProgress: showProgress,
                                    speaks: !quiet && (verbose || isatty(STDERR_FILENO) == 1))
            SignalWatcher.start { signal in
                notice.received(signal)
                run.requestStop(.signal(signal))
            }
            let result = run.run()
            if showProgress { ProgressLine.clear() }
            if report {
                let root = RunChecks.outputRoot(pipeline, output: output, shard: options.shard)
                if let path = RunReport.pathBeside(result, outputRoot: root) {
                    do throws(RunReport.FileError) {
                        try RunReport.write(RunReport.html(result), to: path)
                        if verbose { printError("sluice: report: \(path)") }
                    } catch {
                        printError("sluice: warning: \(error.description)")
                    }
                }
            }
            let r = result.records
            let speak = !quiet && (verbose || isatty(STDOUT_FILENO) == 1)
            if speak {
                if !result.outputs.isEmpty {
                    let failedFiles = result.files.failed == 1 ? "1 file" : "\(result.files.failed) files"
                    let outputs = result.outputs.count == 1 ? "1 output file" : "\(result.outputs.count) output files"
                    let root = RunChecks.outputRoot(pipeline, output: output, shard: options.shard)
                    let errors = result.errorReport.isEmpty ? "no errors" : "errors: " + URL(fileURLWithPath: result.errorReport).lastPathComponent
                    print("\(pipeline.name): \(r.in) records in, \(r.out) out, \(r.filtered) filtered, \(r.failed) failed, \(r.discarded) discarded (\(failedFiles) failed) → \(root)/ (\(outputs); \(errors))")
                } else if result.exitCode == ExitStatus.success {
                    print("\(pipeline.name): nothing to do (\(result.files.skipped) of \(result.files.seen) files skipped)")
                }
            }
            // A run that committed nothing (a fatal error) has no error report to point at.
            if !result.errorReport.isEmpty || result.exitCode == 0 {
                RunChecks.reportFailedFiles(errorReport: result.errorReport, expected: result.files.failed)
            }
            if result.files.seen == 0, let warning = try? DirectoryScanner(
                root: input ?? pipeline.input.path, include: pipeline.input.include, exclude: pipeline.input.exclude, symlinks: pipeline.input.followSymlinks).unmatchedIncludeWarning() {
                printError("sluice: warning: \(warning)")
            }
            if let failure = result.failure {
                printError("sluice: \(failure)")
            }
            if result.exitCode != ExitStatus.success {
                throw ExitCode(result.exitCode)
            }
            let filesFailedExit = failedFilesExit ?? Int32(pipeline.errors.failedFilesExit)
            if result.files.failed > 0 && filesFailedExit != 0 { throw ExitCode(filesFailedExit) }
        }
    }
}
