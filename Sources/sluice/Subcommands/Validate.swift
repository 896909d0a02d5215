import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice validate CONFIG…`: check configs without running them.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
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

    /// `sluice explain CONFIG`: the stage graph and the memory bound.
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show how a config will run: threads, queues, batch size and the memory bound.")

        @Argument(help: "The pipeline config (YAML).")
        var config: String

        @Option(help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var overrides: ConfigOverrides

        enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        func run() throws {
            let plan = try loadConfig(config, overrides: overrides.values).plan
            switch format {
            case .text:
                print(plan.text, terminator: "")
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(plan), as: UTF8.self))
            }
        }
    }
}
