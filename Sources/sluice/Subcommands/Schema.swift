import ArgumentParser
import Sluice

extension SluiceCommand {
    /// `sluice schema`: the config's JSON Schema, for editors.
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Print the JSON Schema of pipeline configs (docs/sluice.schema.json is this output).")

        func run() {
            print(ConfigSchema.jsonSchema, terminator: "")
        }
    }
}
