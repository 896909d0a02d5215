import ArgumentParser
import Foundation
import Logging
import Sluice

/// `sluice`: the command line. Parsing flags and printing only; the work is in the
/// `Sluice` library.
struct SluiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Stream a directory of JSON, NDJSON and XML files (plain or compressed) through a pipeline of stages.",
        discussion: """
            Reference: sluice help stages | stage NAME | functions | expressions | tests | \
            outputs | config (the same text as docs/).

            Exit codes: 0 success · 1 error threshold exceeded or fatal I/O · 2 usage or \
            config error · 3 committed, but some files failed · 4 another run holds the lock · \
            5 the ledger is unusable · 130/143 stopped by SIGINT/SIGTERM.
            """,
        version: "0.1.0",
        subcommands: [Run.self, Validate.self, Explain.self, Test.self, Eval.self, Init.self, Schema.self, Summary.self, Report.self, LedgerCommand.self]
    )
}

/// Entry point: maps argument errors to exit code 2 (the documented usage-error code)
/// instead of ArgumentParser's default 64.
@main
enum Main {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let code = HelpCommand.exitCode(for: arguments) {
            Foundation.exit(code)
        }
        // An unknown first word is a mistyped subcommand far more often than anything else.
        let names = SluiceCommand.configuration.subcommands.map { $0._commandName } + ["help"]
        if let word = arguments.first, !word.hasPrefix("-"), !names.contains(word) {
            var message = "sluice: unknown command '\(word)'"
            // Swapped letters (rnu) are two edits away; same letters in another order count too.
            let guess = closestMatch(to: word, in: names) ?? names.first { $0.sorted() == word.sorted() }
            if let guess { message += " (did you mean 'sluice \(guess)'?)" }
            printError(message + "; the commands: \(names.filter { $0 != "help" }.joined(separator: ", ")) (sluice --help)")
            Foundation.exit(2)
        }
        do {
            var command = try SluiceCommand.parseAsRoot()
            try command.run()
        } catch {
            let code = SluiceCommand.exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((SluiceCommand.fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            SluiceCommand.exit(withError: error)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Loads a config, printing every problem and exiting 2 when it cannot run.
func loadConfig(_ path: String, overrides: [String] = []) throws -> PipelineConfig {
    do {
        return try PipelineConfig.load(path: path, overrides: overrides)
    } catch {
        printError(error.description)
        throw ExitCode(2)
    }
}

/// `--set KEY.PATH=VALUE`, shared by the subcommands that load a config.
struct ConfigOverrides: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a config value, e.g. --set stages.check.workers=4 (repeatable; the value is read as YAML).",
        valueName: "KEY=VALUE"))
    var values: [String] = []
}
