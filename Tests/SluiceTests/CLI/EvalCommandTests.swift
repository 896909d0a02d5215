import Foundation
import Testing

/// `sluice eval` as a process: records from --record or stdin, values on stdout, errors on
/// stderr with the failing part underlined, exit codes 0 / 1 / 2.
@Suite struct EvalCommandTests {
    static func eval(_ arguments: [String], stdin: String? = nil) throws -> CLITests.Outcome {
        try CLITests.sluice(["eval"] + arguments, stdin: Array((stdin ?? "").utf8))
    }

    @Test func recordsFromArguments() throws {
        let r = try Self.eval(["round(total * 100)", "--record", #"{"total": 12.5}"#, "--record", #"{"total": 1}"#])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "1250\n100\n")
    }

    @Test func recordsFromStdinAndAFailureUnderlined() throws {
        let r = try Self.eval(["total > 10 && len(items) > 1"], stdin: "{\"total\": 20, \"items\": [1, 2]}\n{\"total\": \"x\"}\n\n{\"total\": 5}\n")
        #expect(r.code == 1)
        #expect(r.stdout == "true\nfalse\n")
        #expect(r.stderr == """
            record 2: error: cannot compare string with int using '>' in 'total > 10'
              total > 10 && len(items) > 1
              ^^^^^^^^^^

            """)
    }

    @Test func noRecordEvaluatesOnTheEmptyRecord() throws {
        let r = try Self.eval(["1 + 2 * 3"])
        #expect(r.code == 0)
        #expect(r.stdout == "7\n")
        let now = try Self.eval(["format_time(now(), '%Y-%m-%d', 'UTC')", "--now", "2026-12-01T08:00:00Z"])
        #expect(now.stdout == "\"2026-12-01\"\n", "\(now.stderr)")
    }

    @Test func compileErrorExitsTwoWithAHint() throws {
        let r = try Self.eval(["status == 'x' and total > 1"])
        #expect(r.code == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == """
            error: unexpected 'and' at column 15 (write '&&' for and)
              status == 'x' and total > 1
                            ^

            """)
    }

    @Test func stageMode() throws {
        let r = try Self.eval(["--stage", "filter: 'total > 10'"], stdin: "{\"total\": 20}\n{\"total\": 5}\n{\"total\": null}\n")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "{\"total\": 20}\n")
        #expect(r.stderr.isEmpty, "the stage's run printed: \(r.stderr)")
        let bad = try Self.eval(["--stage", "validate: { required: [id] }", "--record", "{}", "--record", #"{"id": 1}"#])
        #expect(bad.code == 1)
        #expect(bad.stdout == "{\"id\": 1}\n")
        #expect(bad.stderr.contains("missing required field 'id'"))
        let broken = try Self.eval(["--stage", "filtr: 'x'"])
        #expect(broken.code == 2)
        #expect(broken.stderr.contains("--stage:1:1:"))
    }

    @Test func expressionAndStageTogetherIsAUsageError() throws {
        let r = try Self.eval(["a", "--stage", "filter: a"])
        #expect(r.code == 2)
        #expect(r.stderr.contains("either an expression or --stage"))
    }

    @Test func completionScriptsKnowEverySubcommand() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try CLITests.sluice(["--generate-completion-script", shell])
            let text = result.stdout
            #expect(result.code == 0)
            for subcommand in ["run", "validate", "explain", "test", "eval", "init", "schema", "summary"] {
                #expect(text.contains(subcommand), "\(shell) completion lacks \(subcommand)")
            }
        }
    }
}

/// `sluice help TOPIC` as a process.
@Suite struct HelpCommandTests {
    @Test func topicsAndSubcommands() throws {
        let topics = try CLITests.sluice(["help"])
        #expect(topics.code == 0)
        #expect(topics.stdout.contains("sluice help stage NAME"))
        let stage = try CLITests.sluice(["help", "stage", "dedupe"])
        #expect(stage.code == 0, "\(stage.stderr)")
        #expect(stage.stdout.hasPrefix("dedupe\n------\n"))
        let unknown = try CLITests.sluice(["help", "stage", "dedup"])
        #expect(unknown.code == 2)
        #expect(unknown.stderr.contains("did you mean 'dedupe'?"))
        // A subcommand's help is still ArgumentParser's.
        let run = try CLITests.sluice(["help", "run"])
        #expect(run.code == 0)
        #expect(run.stdout.contains("USAGE: sluice run"))
    }
}
