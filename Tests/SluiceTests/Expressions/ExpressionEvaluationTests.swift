import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Evaluates `source` on `record` and renders the result as JSON text, or `error: message`.
func evaluate(_ source: String, on record: String) throws -> String {
    let expression = try CompiledExpression(source)
    let batch = try ndjsonBatch(record)
    return batch.withView { view in
        do throws(EvaluationError) {
            let value = try expression.evaluate(record: Int(batch.records[0].tapeStart), in: view)
            var writer = JSONWriter()
            SelectStage.write(value, view: view, to: &writer)
            return String(decoding: writer.bytes, as: UTF8.self)
        } catch {
            return "error: \(error.message)"
        }
    }
}

@Suite struct ExpressionEvaluationTests {
    static let order = #"""
        {"status":"shipped","total":12.5,"qty":3,"customer":{"id":"C1","country":"DE"},"items":[{"sku":"A"},{"sku":"B"}],"name":"h\u00e9llo","emoji":"😀","big":12345678901234567890,"huge":1e400,"flag":true,"n":null,"max":9223372036854775807,"min":-9223372036854775808,"o1":{"a":1,"b":[1,2]},"o2":{"b":[1,2.0],"a":1},"esc":"ship\u0070ed","odd key":{"x":1}}
        """#

    static let cases: [(String, String)] = [
        // Paths; missing is null.
        ("status", #""shipped""#),
        ("customer.id", #""C1""#),
        ("items[0].sku", #""A""#),
        ("items[-1].sku", #""B""#),
        ("items[-3]", "null"),
        ("items[5]", "null"),
        ("missing", "null"),
        ("missing.deeper[0]", "null"),
        ("status.x", "null"),
        ("status[0]", "null"),
        ("n", "null"),
        ("flag", "true"),
        // Raw pass-through of numbers.
        ("big", "12345678901234567890"),
        ("huge", "1e400"),
        ("name", #""h\u00e9llo""#),
        // Equality by value; null semantics.
        ("status == \"shipped\"", "true"),
        ("status != 'cancelled'", "true"),
        ("esc == 'shipped'", "true"),
        ("esc == status", "true"),
        ("name == 'héllo'", "true"),
        ("missing == null", "true"),
        ("n == null", "true"),
        ("n == missing", "true"),
        ("n != null", "false"),
        ("total == null", "false"),
        ("status == 1", "false"),
        ("qty == 3.0", "true"),
        ("qty == '3'", "false"),
        ("flag == true", "true"),
        ("o1 == o2", "true"),
        ("o1 == customer", "false"),
        ("items == items", "true"),
        ("items[0] == items[1]", "false"),
        // Ordering.
        ("total > 12", "true"),
        ("qty <= 3", "true"),
        ("status < 't'", "true"),
        ("status >= 'shipped'", "true"),
        ("'B' < 'a'", "true"),
        ("big > max", "true"),
        ("huge > big", "true"),
        ("max < 9223372036854775806.0", "true"),
        ("9007199254740993 > 9007199254740992.0", "true"),
        ("missing > 1", "null"),
        ("n <= 1", "null"),
        ("status < 1", "error: cannot compare string with int using '<' in 'status < 1'"),
        ("flag < flag", "error: cannot order bool values with '<' in 'flag < flag'"),
        ("items > 1", "error: cannot compare array with int using '>' in 'items > 1'"),
        // Three-valued logic and short-circuit.
        ("false && qty / 0 == 1", "false"),
        ("true || qty / 0 == 1", "true"),
        ("qty / (qty - 3) == 1 && false", "error: division by zero in 'qty / (qty - 3)'"),
        ("false && 1 / 0 == 1", "false"),
        ("flag && 1 / 0 == 1", "error: division by zero in '1 / 0'"),
        ("missing > 1 && 1 / 0 == 1", "error: division by zero in '1 / 0'"),
        ("missing > 1 && true", "null"),
        ("missing > 1 && false", "false"),
        ("missing > 1 || true", "true"),
        ("missing > 1 || false", "null"),
        ("!(missing > 1)", "null"),
        ("!flag", "false"),
        ("!missing", "null"),
        ("!status", "error: '!' needs a bool, got string in '!status'"),
        ("qty && true", "error: '&&' needs bools, got int in 'qty && true'"),
        // Arithmetic.
        ("qty + 1", "4"),
        ("qty - 5", "-2"),
        ("qty * 2.5", "7.5"),
        ("total * 100", "1250.0"),
        ("round(total * 100)", "1250"),
        ("7 / 2", "3.5"),
        ("qty / 3", "1.0"),
        ("7 % 3", "1"),
        ("-7 % 3", "-1"),
        ("7.5 % 2", "1.5"),
        ("min % -1", "0"),
        ("-qty", "-3"),
        ("-total", "-12.5"),
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("10 - 4 - 3", "3"),
        ("status + '!'", #""shipped!""#),
        ("name + emoji", #""héllo😀""#),
        ("qty % (qty - 3)", "error: division by zero in 'qty % (qty - 3)'"),
        ("qty % missing", "error: '%' needs numbers, got int and null in 'qty % missing'"),
        ("total / (qty - 3)", "error: division by zero in 'total / (qty - 3)'"),
        ("total % (qty - 3.0)", "error: division by zero in 'total % (qty - 3.0)'"),
        ("max + 1", "error: integer overflow in 'max + 1'"),
        ("min - 1", "error: integer overflow in 'min - 1'"),
        ("max * 2", "error: integer overflow in 'max * 2'"),
        ("-min", "error: integer overflow in '-min'"),
        ("huge * 1", "error: number out of range in 'huge * 1'"),
        ("missing * 2", "error: '*' needs numbers, got null and int in 'missing * 2'"),
        ("status * 2", "error: '*' needs numbers, got string and int in 'status * 2'"),
        ("status + 1", "error: '+' needs two numbers or two strings, got string and int in 'status + 1'"),
        ("-status", "error: '-' needs a number, got string in '-status'"),
        // Functions.
        ("len(status)", "7"),
        ("len(name)", "5"),
        ("len(emoji)", "1"),
        ("len('héllo')", "5"),
        ("len(items)", "2"),
        ("len(customer)", "2"),
        ("len(status + name)", "12"),
        ("len(missing)", "error: len() needs a string, array or object, got null in 'len(missing)'"),
        ("len(qty)", "error: len() needs a string, array or object, got int in 'len(qty)'"),
        ("round(2.5)", "3"),
        ("round(-2.5)", "-3"),
        ("round(2.4999)", "2"),
        ("round(qty)", "3"),
        ("round(total)", "13"),
        ("round(-total)", "-13"),
        ("round(missing)", "error: round() needs a number, got null in 'round(missing)'"),
        ("round(big)", "error: round() result is beyond the 64-bit integer range in 'round(big)'"),
        ("round(huge)", "error: round() result is beyond the 64-bit integer range in 'round(huge)'"),
        ("round(status)", "error: round() needs a number, got string in 'round(status)'"),
        // Keys that are not plain names.
        ("odd_key", "null"),
    ]

    @Test(arguments: cases)
    func evaluates(source: String, expected: String) throws {
        #expect(try evaluate(source, on: Self.order) == expected)
    }

    @Test func quotedKeyStep() throws {
        #expect(try evaluate(#"o1["a"]"#, on: #"{"o1":{"a":7}}"#) == "7")
        #expect(try evaluate(#"o1["odd key"].x"#, on: #"{"o1":{"odd key":{"x":"y"}}}"#) == #""y""#)
    }

    @Test func duplicateKeysFirstWins() throws {
        #expect(try evaluate("a", on: #"{"a":1,"a":2}"#) == "1")
    }
}
