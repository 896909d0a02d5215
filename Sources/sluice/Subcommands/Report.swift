import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice report RUN`: one self-contained HTML page of a finished run.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Write one self-contained HTML page of a finished run.",
            discussion: """
                RUN is a run summary (NAME-RUNID.summary.json or a --summary file), or an \
                output directory: with --run-id that run's summary, otherwise the latest run's. \
                The page (inline SVG and CSS, no network, no JavaScript, printable) shows the \
                pipeline with each part's utilisation, queue depths and records/s over the run, \
                what bound the run and what to change, errors by stage, kind and file, and the \
                records per output. It is written beside the summary (NAME-RUNID.report.html) \
                unless -o says where; its path is printed.
                """)

        @Argument(help: ArgumentHelp("A run summary, or an output directory.", valueName: "run"))
        var runPath: String

        @Option(help: "With an output directory: the run (default: the latest).")
        var runId: String?

        @Option(name: .shortAndLong, help: "Write the page here (- for stdout).")
        var output: String?

        func run() throws {
            do throws(RunReport.FileError) {
                let path = try RunReport.summaryPath(for: runPath, runID: runId)
                let summary = try RunReport.load(path)
                let html = RunReport.html(summary)
                if output == "-" {
                    print(html, terminator: "")
                    return
                }
                let target = output ?? RunReport.reportPath(forSummary: path)
                try RunReport.write(html, to: target)
                print(target)
            } catch {
                printError("sluice: \(error.description)")
                throw ExitCode(ExitStatus.usage)
            }
        }
    }
}
