import ArgumentParser
import Sluice

extension SluiceCommand {
    /// `sluice validate CONFIG`: check a config without running it.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a pipeline config; print every problem as file:line:column: message.",
            discussion: "Exit 0 when the config is valid, 2 otherwise.")

        @Argument(help: "The pipeline config (YAML).")
        var config: String

        func run() throws {
            let pipeline = try loadConfig(config)
            print("\(config): ok (\(pipeline.stages.count) stages)")
        }
    }
}
