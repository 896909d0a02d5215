import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice init DIR`: a commented starter config for a data directory.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a commented starter config for a data directory, from a sample of its files.",
            discussion: "Prints the config, or writes it with --config FILE (never over an existing file).")

        @Argument(help: "The data directory.")
        var directory: String

        @Option(help: "The pipeline's name (default: the directory's name).")
        var name: String?

        @Option(help: "Output directory to put in the config.")
        var output: String = "out"

        @Option(help: "Write the config to this file instead of printing it.")
        var config: String?

        func run() throws {
            let pipelineName = name ?? URL(fileURLWithPath: directory).lastPathComponent
            let text: String
            do {
                text = try StarterConfig.make(directory: directory, name: pipelineName, output: output)
            } catch {
                printError("sluice: \(error)")
                throw ExitCode(1)
            }
            guard let config else {
                print(text, terminator: "")
                return
            }
            if FileManager.default.fileExists(atPath: config) {
                printError("sluice: \(config) exists; not overwriting it")
                throw ExitCode(1)
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: config))
            print("wrote \(config)")
        }
    }
}
