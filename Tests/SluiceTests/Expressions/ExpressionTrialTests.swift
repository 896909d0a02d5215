import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `sluice eval`'s library side: an expression or a stage tried on records.
@Suite struct ExpressionTrialTests {
    @Test func valuesPerRecord() throws {
        let trial = try ExpressionTrial("round(total * 100)")
        #expect(trial.evaluate(#"{"total": 12.5}"#) == .value("1250"))
        #expect(trial.evaluate(#"{"total": 2}"#) == .value("200"))
        let object = try ExpressionTrial("customer")
        // A value read from the record keeps its source bytes, as a select stage writes it.
        #expect(object.evaluate(#"{"customer": {"id": "c1", "n": [1, 2]}}"#) == .value(#"{"id": "c1", "n": [1, 2]}"#))
        #expect(try ExpressionTrial("[len(items), items[0]]").evaluate(#"{"items": [7, 8]}"#) == .value("[2,7]"))
    }

    @Test func failureNamesTheFailingPart() throws {
        let source = "status == \"paid\" && round(total * 100) > 5"
        let trial = try ExpressionTrial(source)
        guard case .failure(let message, let span?) = trial.evaluate(#"{"status": "paid"}"#) else {
            Issue.record("expected a failure with a span")
            return
        }
        #expect(message.contains("'*' needs numbers"))
        let scalars = Array(source.unicodeScalars)
        #expect(String(String.UnicodeScalarView(scalars[span])) == "total * 100")
        #expect(ExpressionTrial.pointer(at: span, in: source, indent: "") ==
                source + "\n" + String(repeating: " ", count: span.lowerBound) + String(repeating: "^", count: 11))
    }

    @Test func notJSON() throws {
        let trial = try ExpressionTrial("a")
        guard case .notJSON(let message) = trial.evaluate("{nope") else {
            Issue.record("expected notJSON")
            return
        }
        #expect(message.contains("at byte"))
    }

    @Test func compileErrorsSuggestOtherLanguagesSpelling() {
        func hint(_ source: String) -> String? {
            do {
                _ = try ExpressionTrial(source)
                return "compiled"
            } catch {
                return error.hint
            }
        }
        #expect(hint("length(items)") == "did you mean 'len'?")
        #expect(hint("lenght(items)") == "did you mean 'len'?")
        #expect(hint("lenn(items)") == "did you mean 'len'?")
        #expect(hint("startswith(s, 'a')") == "did you mean 'starts_with'?")
        #expect(hint("a and b") == "write '&&' for and")
        #expect(hint("a or b") == "write '||' for or")
        #expect(hint("not a") == "write '!' for not, e.g. !(status == \"x\")")
        #expect(hint("x is null") == "write '== null' / '!= null' to test for null")
        #expect(hint("a && b") == "compiled")
    }

    // Running a stage is tested through the process (EvalCommandTests.stageMode): a run in
    // this process would race PipelineRunTests' count of the process's threads.

    @Test func stageConfigErrorsPointIntoTheStageText() {
        do {
            _ = try StageTrial(stage: "name: f\nfiltr: 'x'")
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.first?.description == "--stage:2:1: stages[0].filtr: unknown key 'filtr' (did you mean 'filter'?)")
        }
    }
}
