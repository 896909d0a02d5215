import ArgumentParser
import Foundation
import Sluice

extension SluiceCommand {
    /// `sluice eval EXPR` / `sluice eval --stage YAML`: try an expression or a stage on
    /// records, without a config.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Try an expression, or a whole stage, on records.",
            discussion: """
                Records come from --record (repeatable), or one per line from standard input \
                (NDJSON) when it is not a terminal; an expression with no record is evaluated on {}.

                An expression prints one value per record, as JSON, on stdout. A record it \
                cannot be evaluated on is reported on stderr with the failing part of the \
                expression underlined.

                  sluice eval 'round(total * 100)' --record '{"total": 12.345}'
                  zcat day.ndjson.gz | head -100 | sluice eval 'status != "cancelled" && total > 50'

                --stage runs one stage, written as an entry of a config's stages: list, through \
                the real runtime: output records on stdout, error lines on stderr.

                  sluice eval --stage 'validate: { required: [id, total] }' < sample.ndjson

                Exit 0 when every record went through, 1 when one failed (or the stage wrote an \
                error line), 2 when the expression or the stage does not compile.
                """)

        @Argument(help: "The expression (omit it with --stage).")
        var expression: String?

        @Option(help: ArgumentHelp("A stage, as YAML (e.g. 'filter: \"total > 10\"').", valueName: "yaml"))
        var stage: String?

        @Option(name: .customLong("record"), help: ArgumentHelp("A record as JSON text (repeatable).", valueName: "json"))
        var records: [String] = []

        @Option(help: ArgumentHelp("What now() returns: an RFC 3339 time (default: the current time).", valueName: "time"))
        var now: String?

        func validate() throws {
            if (expression == nil) == (stage == nil) {
                throw ValidationError("give either an expression or --stage YAML (not both)")
            }
        }

        func run() throws {
            let inputs = try readRecords()
            if let stage {
                try runStage(stage, on: inputs ?? [])
            } else if let expression {
                // No record at all (a terminal, or empty stdin): a constant or now() still
                // has a value, so evaluate on the empty record rather than print nothing.
                try runExpression(expression, on: (inputs ?? []).isEmpty ? ["{}"] : inputs!)
            }
        }

        /// --record values, else stdin's lines when it is not a terminal; nil for neither.
        private func readRecords() throws -> [String]? {
            if !records.isEmpty { return records }
            guard isatty(STDIN_FILENO) == 0 else { return nil }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            let text = String(decoding: data, as: UTF8.self)
            return text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
                .filter { !$0.allSatisfy(\.isWhitespace) }
        }

        private func nowSeconds() throws -> Double {
            guard let now else { return Date().timeIntervalSince1970 }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = formatter.date(from: now) ?? fractional.date(from: now) else {
                throw ValidationError("--now: '\(now)' is not an RFC 3339 time such as 2026-12-01T08:00:00Z")
            }
            return date.timeIntervalSince1970
        }

        private func runExpression(_ source: String, on inputs: [String]) throws {
            let trial: ExpressionTrial
            do {
                trial = try ExpressionTrial(source)
            } catch {
                printError("error: \(error.description)")
                printError(ExpressionTrial.pointer(at: (error.column - 1)..<error.column, in: source))
                throw ExitCode(2)
            }
            let now = try nowSeconds()
            var failed = false
            for (i, record) in inputs.enumerated() {
                let place = inputs.count == 1 ? "" : "record \(i + 1): "
                switch trial.evaluate(record, now: now) {
                case .value(let json):
                    print(json)
                case .notJSON(let message):
                    failed = true
                    printError("\(place)not JSON: \(message)")
                case .failure(let message, let span):
                    failed = true
                    printError("\(place)error: \(message)")
                    if let span { printError(ExpressionTrial.pointer(at: span, in: source)) }
                }
            }
            if failed { throw ExitCode(1) }
        }

        private func runStage(_ yaml: String, on inputs: [String]) throws {
            let trial: StageTrial
            do {
                trial = try StageTrial(stage: yaml)
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
            let result = trial.run(records: inputs)
            result.records.forEach { print($0) }
            result.errors.forEach(printError)
            if let failure = result.failure {
                printError("error: \(failure)")
                throw ExitCode(1)
            }
            if !result.errors.isEmpty { throw ExitCode(1) }
        }
    }
}
