import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice init DIR`: a commented starter config for a data directory.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Write a commented starter config for a data directory, from a sample of its files.",
            discussion: "Prints the config, or writes it with --config FILE (never over an existing file).")

        @Argument(help: "The data directory.")
        var directory: String

        @Option(help: "The pipeline's name (default: the directory's name).")
        var name: String?

        @Option(help: "Output directory to put in the config (relative to the working directory).")
        var output: String = "out"

        @Option(help: "Write the config to this file instead of printing it.")
        var config: String?

        func run() throws {
            let pipelineName = name ?? URL(fileURLWithPath: directory).lastPathComponent
            // Command-line paths are relative to the working directory; the config's are
            // relative to the config file's directory (absolute when it is printed).
            let base = config.map { URL(fileURLWithPath: $0).deletingLastPathComponent().standardizedFileURL.path }
            let text: String
            do {
                text = try StarterConfig.make(directory: directory, name: pipelineName,
                                              output: Self.written(output, base: base), inputPath: Self.written(directory, base: base))
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

        /// `path` (relative to the working directory) as the config should say it: relative
        /// to `base`, the config file's directory, or absolute when there is none.
        static func written(_ path: String, base: String?) -> String {
            let target = URL(fileURLWithPath: path).standardizedFileURL.path
            guard let base else { return target }
            let from = base.split(separator: "/")
            let to = target.split(separator: "/")
            var common = 0
            while common < from.count && common < to.count && from[common] == to[common] { common += 1 }
            let parts = Array(repeating: "..", count: from.count - common) + to[common...].map(String.init)
            return parts.isEmpty ? "." : parts.joined(separator: "/")
        }
    }
}
