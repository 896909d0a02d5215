import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice validate CONFIG…`: check configs without running them.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check pipeline configs; print every problem as file:line:column: message.",
            discussion: """
                Checks every key, value and expression, and that the input directory exists. \
                Exit 0 when every config is valid, 2 otherwise.
                """)

        @Argument(help: "Pipeline configs (YAML).")
        var configs: [String]

        @OptionGroup var overrides: ConfigOverrides

        func run() throws {
            var failed = false
            for path in configs {
                do {
                    let config = try PipelineConfig.load(path: path, overrides: overrides.values)
                    let problems = config.checkReferences()
                    if problems.isEmpty, let warning = try? DirectoryScanner(
                        root: config.input.path, include: config.input.include, exclude: config.input.exclude, symlinks: config.input.followSymlinks).unmatchedIncludeWarning() {
                        printError("\(path): warning: \(warning)")
                    }
                    if problems.isEmpty {
                        print("\(path): ok (\(config.stages.count) stage\(config.stages.count == 1 ? "" : "s"))")
                    } else {
                        failed = true
                        problems.forEach { printError($0.description) }
                    }
                } catch {
                    failed = true
                    printError(error.description)
                }
            }
            if failed { throw ExitCode(2) }
        }
    }

    /// `sluice explain CONFIG [--from RUN]`: the stage graph and the memory bound; with a
    /// finished run, what bound it and what to change.
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Show how a config will run: threads, queues, batch size and the memory bound.",
            discussion: """
                With --from RUN (a run summary, or an output directory: its latest run) it also \
                reads where that run's time went and says which part bound it (a stage, the \
                readers, the sink or the cores) and what to change (workers, queue, readers, \
                batch size), with the figures behind it, and puts the memory that run's record \
                sizes imply beside the worst case. `sluice report` shows the same advice.
                """)

        @Argument(help: "The pipeline config (YAML).")
        var config: String

        @Option(help: "text or json.")
        var format: OutputFormat = .text

        @Option(help: ArgumentHelp("A finished run of this config: its summary, or its output directory (the latest run).", valueName: "run"))
        var from: String?

        @OptionGroup var overrides: ConfigOverrides

        enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        /// `--format json` with `--from`.
        struct Advised: Encodable {
            var plan: PipelinePlan
            var run: String
            var bound: String
            var headline: String
            var reasoning: [String]
            var advice: [String]
            var changes: [String: Int]
            var typicalMemoryBytes: Int
            var recordBytes: Int

            enum CodingKeys: String, CodingKey {
                case plan, run, bound, headline, reasoning, advice, changes,
                     typicalMemoryBytes = "typical_memory_bytes", recordBytes = "record_bytes"
            }
        }

        func run() throws {
            let pipeline = try loadConfig(config, overrides: overrides.values)
            let plan = pipeline.plan
            var finished: (path: String, summary: RunSummary)?
            if let from {
                do throws(RunReport.FileError) {
                    let path = try RunReport.summaryPath(for: from, runID: nil)
                    finished = (path, try RunReport.load(path))
                } catch {
                    printError("sluice: \(error.description)")
                    throw ExitCode(ExitStatus.usage)
                }
                if let run = finished?.summary, run.pipeline != pipeline.name {
                    printError("sluice: warning: \(finished!.path) is a run of '\(run.pipeline)', not of '\(pipeline.name)'")
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            guard let finished else {
                switch format {
                case .text: print(plan.text, terminator: "")
                case .json: print(String(decoding: try encoder.encode(plan), as: UTF8.self))
                }
                return
            }
            let diagnosis = RunDiagnosis(finished.summary, batchSize: pipeline.batchSize)
            let typical = plan.typicalBytes(from: finished.summary)
            switch format {
            case .text:
                print(plan.text, terminator: "")
                print("with the record sizes of run \(finished.summary.runID) (\(typical.recordBytes) B per record on average): about \(PipelinePlan.size(typical.bytes))")
                print("")
                print("run \(finished.summary.runID) (\(finished.path)):")
                print(diagnosis.text, terminator: "")
            case .json:
                let advised = Advised(plan: plan, run: finished.path, bound: diagnosis.boundName, headline: diagnosis.headline,
                                      reasoning: diagnosis.reasoning, advice: diagnosis.advice, changes: diagnosis.changes,
                                      typicalMemoryBytes: typical.bytes, recordBytes: typical.recordBytes)
                print(String(decoding: try encoder.encode(advised), as: UTF8.self))
            }
        }
    }
}
