import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension RobustnessTests {
    @Suite struct ExpressionRobustnessTests {
        static let seed: UInt64 = 0x5EED_0004

        static let records = [
            #"{"status":"shipped","total":12.5,"qty":3,"customer":{"id":"C1","country":"DE"},"items":[{"sku":"A","price":1.5},{"sku":"B","price":-2}],"big":12345678901234567890,"huge":1e400,"max":9223372036854775807,"min":-9223372036854775808,"s":"2024-01-02T03:04:05Z","n":null,"flag":true,"e":"","u":"h\u00e9llo \ud800"}"#,
            #"{"status":5,"total":"x","qty":-9223372036854775808,"items":{},"customer":[],"max":0,"min":-1,"s":"","flag":null}"#,
            #"{}"#,
        ]

        static func tokens() -> [String] {
            let functions = ExpressionFunction.all.map(\.name)
            return functions + functions.map { $0 + "(" } + [
                "status", "total", "qty", "customer.id", "items[0]", "items[-1]", "items[*].price", "items[-2147483647]", "big", "huge", "max", "min",
                "s", "n", "flag", "e", "u", "missing", "customer[\"id\"]",
                "0", "1", "-1", "2", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e308", "1e309", "0.5", "-0.0", "63", "64", "1e-320",
                "\"\"", "\"a\"", "'b'", "\"\\u00e9\"", "\"\\ud800\"", "\"%Y-%m-%d\"", "\".*\"", "\"(\"", "\"[\"",
                "null", "true", "false",
                "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "in",
                "(", ")", "[", "]", ",", ".", "[*]", "@", "#", "\"", "'", "\\", "é", "😀", "\t", " ",
            ]
        }

        static let binaryOperators = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]
        static let operands = ["status", "total", "qty", "customer.id", "items[0]", "items[-1]", "items[*].price", "big", "huge", "max", "min",
                               "s", "n", "flag", "e", "u", "missing", "0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808",
                               "1e308", "0.5", "-0.0", "63", "64", "\"a\"", "\"\"", "null", "true", "false", "[1, \"a\", null]", "[]"]

        static func operand(_ rng: inout SplitMix64) -> String {
            let functions = ExpressionFunction.all
            switch rng.int(0..<6) {
            case 0:
                let function = rng.pick(functions)
                let count = rng.chance(0.8) ? rng.int(function.arity.lowerBound...min(function.arity.upperBound, function.arity.lowerBound + 3)) : rng.int(0...4)
                return function.name + "(" + (0..<count).map { _ in rng.pick(Self.operands) }.joined(separator: ", ") + ")"
            case 1: return "(" + rng.pick(Self.operands) + " " + rng.pick(Self.binaryOperators) + " " + rng.pick(Self.operands) + ")"
            case 2: return rng.pick(["!", "-", "- -"]) + rng.pick(Self.operands)
            default: return rng.pick(Self.operands)
            }
        }

        /// Random token sequences: a compile error with a column inside the text (or just
        /// past it), or an expression that evaluates on every record to a value or an
        /// ``EvaluationError``.
        @Test func randomTokenSequencesCompileOrFailCleanly() throws {
            var rng = SplitMix64(seed: Self.seed)
            let tokens = Self.tokens()
            let batch = try ndjsonBatch(Self.records.joined(separator: "\n"))
            var compiled = 0
            var evaluated = 0
            for n in 0..<6000 {
                var text = ""
                if rng.chance(0.5) {
                    for _ in 0..<rng.int(1...12) {
                        text += rng.pick(tokens)
                        if rng.chance(0.4) { text += " " }
                    }
                } else {
                    // Mostly well-formed: operands joined by binary operators, some wrapped.
                    text = Self.operand(&rng)
                    for _ in 0..<rng.int(0...4) {
                        text += " " + rng.pick(Self.binaryOperators) + " " + Self.operand(&rng)
                    }
                    if rng.chance(0.2) {
                        var bytes = Array(text.utf8)
                        Mutator.mutateOnce(&bytes, using: &rng)
                        text = String(decoding: bytes, as: UTF8.self)
                    }
                }
                let expression: CompiledExpression
                do {
                    expression = try CompiledExpression(text)
                } catch {
                    let length = text.unicodeScalars.count
                    #expect(error.column >= 1 && error.column <= length + 1, "case \(n): column \(error.column) outside \(text.debugDescription)")
                    continue
                }
                compiled += 1
                batch.withView { view in
                    for record in batch.records {
                        do throws(EvaluationError) {
                            let value = try expression.evaluate(record: Int(record.tapeStart), in: view, now: 1_700_000_000)
                            var writer = JSONWriter()
                            SelectStage.write(value, view: view, to: &writer)
                            evaluated += 1
                        } catch {
                            #expect(!error.message.isEmpty, "case \(n)")
                        }
                    }
                }
            }
            #expect(compiled > 500 && evaluated > 500)
        }

        /// Deep nesting of any kind is a compile error, not a stack overflow.
        @Test(arguments: [
            String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000),
            String(repeating: "(", count: 100_000),
            String(repeating: "!", count: 100_000) + "true",
            String(repeating: "-", count: 100_000) + "x",
            String(repeating: "- ", count: 50_000) + "1",
            String(repeating: "[", count: 100_000),
            String(repeating: "len(", count: 50_000) + "s" + String(repeating: ")", count: 50_000),
            String(repeating: "x + ", count: 50_000) + "1",
            String(repeating: "x || ", count: 50_000) + "true",
            String(repeating: "1 * ", count: 50_000) + "1",
            String(repeating: "[1, ", count: 50_000) + "1" + String(repeating: "]", count: 50_000),
        ])
        func deepNestingIsACompileError(_ text: String) {
            #expect(throws: ExpressionError.self) { try CompiledExpression(text) }
        }

        /// Nesting a real expression could use still compiles.
        @Test func moderateNestingCompiles() throws {
            _ = try CompiledExpression(String(repeating: "(", count: 60) + "1" + String(repeating: ")", count: 60))
            _ = try CompiledExpression(String(repeating: "x + ", count: 100) + "1")
            _ = try CompiledExpression(String(repeating: "!", count: 60) + "true")
            _ = try CompiledExpression(String(repeating: "a.", count: 50_000) + "b")
            _ = try CompiledExpression("a" + String(repeating: "[0]", count: 50_000))
        }
    }
}
