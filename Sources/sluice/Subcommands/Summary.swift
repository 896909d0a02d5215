import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice summary merge SUMMARY…`: one summary from the summaries of shard runs.
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "summary",
            abstract: "Work with run summaries.",
            subcommands: [Merge.self])

        struct Merge: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "merge",
                abstract: "Combine run summaries (e.g. of the shards of one job) into one.",
                discussion: """
                    Counts and bytes add up, per-stage numbers add up by stage name, outputs \
                    and error reports are listed, and the exit code is the highest. Prints the \
                    merged summary JSON on stdout, or writes it to --output, and each run's \
                    shard, bytes and wall time on stderr. With --check it exits 1, naming what \
                    is wrong, unless the summaries are exactly the N shard summaries of one job \
                    (none missing, none twice, none stale: of another --job-id), and otherwise \
                    with the merged exit code.
                    """)

            @Argument(help: "Summary JSON files (NAME-RUNID.summary.json or --summary files).")
            var summaries: [String] = []

            @Option(name: .shortAndLong, help: "Write the merged summary here instead of stdout.")
            var output: String?

            @Flag(help: "Fail unless the summaries are the N shard summaries of one job; then exit with the merged exit code.")
            var check = false

            @Option(help: "With --check: the job every summary must be of (the shards' --job-id, e.g. the Slurm array job id).")
            var jobId: String?

            @Option(help: "With --check: N, the number of shards (by default the N the summaries state).")
            var shards: Int?

            func validate() throws {
                if let shards, shards < 1 { throw ValidationError("--shards: expected a positive number, got \(shards)") }
                if summaries.isEmpty && !(check && shards != nil) { throw ValidationError("expected at least one summary file") }
            }

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
                if check {
                    let problems = RunSummary.completenessProblems(parsed, jobID: jobId, shards: shards)
                    if !problems.isEmpty {
                        printError("sluice: summary merge --check: not the shard summaries of one job: " + problems.joined(separator: "; "))
                        throw ExitCode(1)
                    }
                }
                let merged: RunSummary
                do {
                    merged = try RunSummary.merge(parsed)
                } catch {
                    printError("sluice: \(error)")
                    throw ExitCode(2)
                }
                for s in merged.shards ?? [] {
                    let mb = String(format: "%.1f", Double(s.bytesRead) / 1e6)
                    printError("\(s.shard.map { "shard \($0)" } ?? "run \(s.runID)")\(s.jobID.map { " of job \($0)" } ?? ""): \(s.filesProcessed) files, \(s.bytesRead) bytes (\(mb) MB) read, \(s.recordsOut) records out in \(s.elapsedSeconds) s, exit \(s.exitCode)")
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
