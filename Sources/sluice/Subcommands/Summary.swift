import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice summary merge SUMMARY…`: one summary from the summaries of shard runs.
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Work with run summaries.",
            subcommands: [Merge.self])

        struct Merge: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Combine run summaries (e.g. of the shards of one job) into one.",
                discussion: """
                    Counts and bytes add up, per-stage numbers add up by stage name, outputs \
                    and error reports are listed, and the exit code is the highest. Prints the \
                    merged summary JSON on stdout, or writes it to --output. Exits with the \
                    merged exit code when --check is given.
                    """)

            @Argument(help: "Summary JSON files (NAME-RUNID.summary.json or --summary files).")
            var summaries: [String]

            @Option(name: .shortAndLong, help: "Write the merged summary here instead of stdout.")
            var output: String?

            @Flag(help: "Exit with the merged exit code (non-zero when any shard failed).")
            var check = false

            func run() throws {
                var parsed: [RunSummary] = []
                for path in summaries {
                    do {
                        parsed.append(try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
                    } catch {
                        printError("sluice: cannot read summary \(path): \(error.localizedDescription)")
                        throw ExitCode(2)
                    }
                }
                let merged: RunSummary
                do {
                    merged = try RunSummary.merge(parsed)
                } catch {
                    printError("sluice: \(error)")
                    throw ExitCode(2)
                }
                let data = merged.encoded()
                if let output {
                    do {
                        try data.write(to: URL(fileURLWithPath: output), options: .atomic)
                    } catch {
                        printError("sluice: cannot write \(output): \(error.localizedDescription)")
                        throw ExitCode(1)
                    }
                } else {
                    FileHandle.standardOutput.write(data)
                }
                if check && merged.exitCode != 0 { throw ExitCode(merged.exitCode) }
            }
        }
    }
}
