import ArgumentParser
import Foundation
import Logging
import Sluice

extension SluiceCommand {
    /// `sluice run CONFIG`: one run of the pipeline.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a pipeline over its input directory.",
            discussion: """
                Writes the output records, the error report and a run summary under the \
                output directory, and prints one line saying where they went. Exit 0, or \
                1 when the error threshold was exceeded or a fatal I/O error occurred, or \
                2 for a config error.
                """)

        @Argument(help: "The pipeline config (YAML).")
        var config: String

        @Option(help: "Read this directory instead of input.path.")
        var input: String?

        @Option(help: "Write under this directory instead of output.path.")
        var output: String?

        @Option(help: "Also write the run summary JSON to this file.")
        var summary: String?

        @OptionGroup var overrides: ConfigOverrides

        func run() throws {
            let pipeline = try loadConfig(config, overrides: overrides.values)
            let logger = Logger(label: "sluice")
            let run = PipelineRun(config: pipeline,
                                  options: RunOptions(inputPath: input, outputPath: output, summaryPath: summary),
                                  logger: logger)
            let result = run.run()
            let r = result.records
            if let output = result.outputs.first {
                let failedFiles = result.files.failed == 1 ? "1 file" : "\(result.files.failed) files"
                print("\(pipeline.name): \(r.in) records in, \(r.out) out, \(r.filtered) filtered, \(r.failed) failed, \(r.discarded) discarded (\(failedFiles) failed) → \(output) (errors: \(result.errorReport))")
            }
            if let failure = result.failure {
                printError("sluice: \(failure)")
            }
            if result.exitCode != 0 {
                throw ExitCode(result.exitCode)
            }
        }
    }
}
