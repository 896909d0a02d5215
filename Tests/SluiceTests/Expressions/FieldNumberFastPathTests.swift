import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The direct paths for a field and a number literal (`total * 100`), `round(...)` of one,
/// and `len(field)` give exactly what the general evaluation gives: the same value and
/// type (int or double, as written out), the same overflow and range errors, the same
/// messages for null, missing and wrong types.
@Suite struct FieldNumberFastPathTests {
    /// Field values, as JSON text (nil: the field is missing).
    static let values: [String?] = [
        "0", "-0", "1", "-1", "7", "12.5", "-2.5", "2.5", "0.1", "1e-300", "1e308", "1e400", "-1e400",
        "9223372036854775807", "-9223372036854775808", "12345678901234567890", "4611686018427387904",
        "null", nil, "true", #""s""#, "[1]", #"{"a":1}"#,
    ]
    /// Number literals, written the same way in the expression and as JSON.
    static let literals = ["0", "1", "-1", "2", "100", "0.5", "100.0", "1e300", "9223372036854775807", "3"]
    static let operators = ["+", "-", "*", "/", "%"]

    /// `record` with `v` (when given) and `k` holding the literal.
    private static func record(_ value: String?, _ literal: String) -> String {
        value.map { #"{"v":\#($0),"k":\#(literal)}"# } ?? #"{"k":\#(literal)}"#
    }

    @Test func fieldAndLiteralArithmeticMatchesTheGeneralPath() throws {
        var checked = 0
        for value in Self.values {
            for literal in Self.literals {
                let record = Self.record(value, literal)
                for op in Self.operators {
                    for (fast, general) in [("v \(op) \(literal)", "v \(op) k"), ("\(literal) \(op) v", "k \(op) v")] {
                        // A literal zero divisor is a compile error (tested elsewhere).
                        if (op == "/" || op == "%") && fast.hasSuffix(" 0") { continue }
                        for (f, g) in [(fast, general), ("round(\(fast))", "round(\(general))")] {
                            let expected = try evaluate(g, on: record)
                                .replacingOccurrences(of: "'\(g)'", with: "'\(f)'")
                                .replacingOccurrences(of: "'\(general)'", with: "'\(fast)'")
                            let got = try evaluate(f, on: record)
                            #expect(got == expected, "\(f) on \(record)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 2000)
    }

    @Test func samples() throws {
        let record = #"{"total":12.345,"qty":3,"n":null,"max":9223372036854775807,"s":"x","big":1e308}"#
        let cases: [(String, String)] = [
            ("round(total * 100)", "1235"),
            ("total * 100", "1234.5"),
            ("qty * 100", "300"),
            ("100 * qty", "300"),
            ("qty / 2", "1.5"),
            ("qty % 2", "1"),
            ("-7 % qty", "-1"),
            ("max + 1", "error: integer overflow in 'max + 1'"),
            ("round(big * 10)", "error: number out of range in 'big * 10'"),
            ("round(max * 1.0)", "error: round() result is beyond the 64-bit integer range in 'round(max * 1.0)'"),
            ("n * 100", "error: '*' needs numbers, got null and int in 'n * 100'"),
            ("missing * 100", "error: '*' needs numbers, got null and int in 'missing * 100'"),
            ("round(missing * 100)", "error: '*' needs numbers, got null and int in 'missing * 100'"),
            ("s * 100", "error: '*' needs numbers, got string and int in 's * 100'"),
            ("s + 1", "error: '+' needs two numbers or two strings, got string and int in 's + 1'"),
            ("round(n)", "error: round() needs a number, got null in 'round(n)'"),
            ("round(s)", "error: round() needs a number, got string in 'round(s)'"),
        ]
        for (source, expected) in cases {
            #expect(try evaluate(source, on: record) == expected, "\(source)")
        }
    }

    @Test func lenOfAField() throws {
        let record = #"{"a":[1,2,3],"e":[],"o":{"x":1,"y":2},"s":"héllo","esc":"h\u00e9","n":null,"i":4,"d":1.5,"t":true,"deep":{"a":[[1],[2]]}}"#
        let cases: [(String, String)] = [
            ("len(a)", "3"), ("len(e)", "0"), ("len(o)", "2"), ("len(s)", "5"), ("len(esc)", "2"),
            ("len(deep.a)", "2"), ("len(deep.a[1])", "1"), ("len(a[*])", "3"),
            ("len(n)", "error: len() needs a string, array or object, got null in 'len(n)'"),
            ("len(missing)", "error: len() needs a string, array or object, got null in 'len(missing)'"),
            ("len(deep.none.x)", "error: len() needs a string, array or object, got null in 'len(deep.none.x)'"),
            ("len(i)", "error: len() needs a string, array or object, got int in 'len(i)'"),
            ("len(d)", "error: len() needs a string, array or object, got double in 'len(d)'"),
            ("len(t)", "error: len() needs a string, array or object, got bool in 'len(t)'"),
            ("len('abc')", "3"), ("len([1, 2])", "2"),
        ]
        for (source, expected) in cases {
            #expect(try evaluate(source, on: record) == expected, "\(source)")
        }
    }
}
