import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct ExpressionCompileTests {
    static let errors: [(String, String)] = [
        ("lenn(items)", "unknown function 'lenn' at column 1 (did you mean 'len'?)"),
        ("x > 1 && rund(total)", "unknown function 'rund' at column 10 (did you mean 'round'?)"),
        ("foo(1)", "unknown function 'foo' at column 1"),
        ("len(a, b)", "len() takes 1 argument, got 2 at column 1"),
        ("round()", "round() takes 1 argument, got 0 at column 1"),
        ("status = \"x\"", "unexpected '=' at column 8 (did you mean '=='?)"),
        ("a & b", "unexpected '&' at column 3 (did you mean '&&'?)"),
        ("status == ", "expected a value, found end of expression at column 11"),
        ("(a + b", "expected ')' to close '(' at column 1, found end of expression at column 7"),
        ("len(a", "expected ',' or ')' in call to 'len' (opened at column 4), found end of expression at column 6"),
        ("\"abc", "unterminated string at column 1"),
        ("'a\\qb'", "invalid escape '\\q' in string at column 3"),
        ("'\\u12'", "\\u escape needs four hex digits at column 2"),
        ("'\\ud800'", "unpaired surrogate in \\u escape at column 2"),
        ("a < b < c", "comparisons cannot be chained at column 7 (use parentheses or '&&')"),
        ("a == b != c", "comparisons cannot be chained at column 8 (use parentheses or '&&')"),
        ("\"a\" * 2", "'*' needs numbers, got string at column 1"),
        ("1 + 'a'", "'+' needs two numbers or two strings, got number and string at column 1"),
        ("-'a'", "'-' needs a number, got string at column 2"),
        ("!1", "'!' needs a bool, got number at column 2"),
        ("a && 'yes'", "'&&' needs bools, got string at column 6"),
        ("1 / 0", "division by zero in '1 / 0' at column 1"),
        ("qty % (2 - 2)", "division by zero in 'qty % (2 - 2)' at column 1"),
        ("true && 1 / 0 == 1", "division by zero in '1 / 0' at column 1"),
        ("x / 0", "division by zero in 'x / 0' at column 1"),
        ("9223372036854775807 + 1", "integer overflow in '9223372036854775807 + 1' at column 1"),
        ("x < null", "'<' with null is never true at column 5 (use '==' or '!=' to test for null)"),
        ("true < x", "cannot order bools with '<' at column 1"),
        ("'a' < 1", "cannot compare string with number using '<' at column 1"),
        ("len(1)", "len() does not take a number at column 5"),
        ("round('x')", "round() does not take a string at column 7"),
        ("a #", "unexpected character '#' at column 3"),
        ("", "empty expression at column 1"),
        ("   ", "empty expression at column 1"),
        ("a b", "unexpected 'b' at column 3"),
        ("items[x]", "expected an integer index or a quoted key after '[', found 'x' at column 7"),
        ("items[0", "expected ']' to close '[' at column 6, found end of expression at column 8"),
        ("a.", "expected a field name after '.', found end of expression at column 3"),
        ("99999999999999999999", "integer literal 99999999999999999999 does not fit in 64 bits at column 1 (write it as a decimal, e.g. 99999999999999999999.0)"),
        ("1e999", "number 1e999 is out of range at column 1"),
        ("01", "malformed number: leading zero in '01' at column 1"),
        ("1e", "malformed number: exponent has no digits at column 1"),
        ("12ab", "malformed number: unexpected 'a' after digits at column 3"),
        ("é == 1", "unexpected character 'é' at column 1"),
        ("'é' == x)", "unexpected ')' at column 9"),
    ]

    @Test(arguments: errors)
    func compileError(source: String, expected: String) {
        #expect(throws: ExpressionError.self) { try CompiledExpression(source) }
        do {
            _ = try CompiledExpression(source)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func errorCarriesColumnAndHintSeparately() throws {
        do {
            _ = try CompiledExpression("a > 1 && lenn(items) > 2")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "unknown function 'lenn'")
            #expect(error.column == 10)
            #expect(error.hint == "did you mean 'len'?")
        }
    }

    @Test(arguments: [
        "status != \"cancelled\"", "customer.id", "items[0].sku", "items[-1]", "meta[\"odd key\"].x",
        "a.null.true", "!(a > 1) || b <= 2 && c >= 3", "-9223372036854775808", "round(total * 100)",
        "len(items) % 2 == 0", "'it\\'s' + \"\\u00e9\\ud83d\\ude00\\n\"", "x == null", "-(-x)", "1.5e-3 * x",
    ])
    func compiles(source: String) throws {
        _ = try CompiledExpression(source)
    }

    @Test func fieldPathIsRecognised() throws {
        #expect(try CompiledExpression("customer.id").fieldPath == FieldPath(steps: [.key(Array("customer".utf8)), .key(Array("id".utf8))]))
        #expect(try CompiledExpression("items[-1]").fieldPath == FieldPath(steps: [.key(Array("items".utf8)), .index(-1)]))
        #expect(try CompiledExpression("len(items)").fieldPath == nil)
        #expect(try FieldPath(parsing: "meta[\"odd key\"].x").description == "meta[\"odd key\"].x")
        #expect(try FieldPath(parsing: "items[0].sku").description == "items[0].sku")
    }

    @Test func fieldPathParsingRejectsExpressions() {
        #expect(throws: ExpressionError("unexpected '+'", column: 3)) { try FieldPath(parsing: "a + 1") }
        #expect(throws: ExpressionError("expected a field name, found number", column: 1)) { try FieldPath(parsing: "1") }
        #expect(throws: ExpressionError("empty field path", column: 1)) { try FieldPath(parsing: "") }
    }

    @Test func constantsAreFolded() throws {
        let expression = try CompiledExpression("round(2.5) + 1 > 3 && 'a' + 'b' == 'ab'")
        #expect(expression.root is LiteralNode)
        #expect((expression.root as? LiteralNode)?.value == .bool(true))
    }

    @Test func didYouMeanUsesEditDistance() {
        #expect(ExpressionCompiler.editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)) == 3)
        #expect(ExpressionCompiler.editDistance([], Array("abc".unicodeScalars)) == 3)
        #expect(ExpressionCompiler.closest(to: "rnd", among: ["len", "round"]) == nil)
        #expect(ExpressionCompiler.closest(to: "Len", among: ["len", "round"]) == "len")
    }
}
