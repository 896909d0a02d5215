import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct ExpressionFunctionTests {
    static let record = #"""
        {"status":"paid","name":"  Héllo World ","tags":["a","b",null],"items":[{"sku":"A","price":2,"qty":1},{"sku":"B","price":3.5},{"price":null}],"ints":[1,2,3],"n":null,"s42":"42","s39":"3.9","sx":"abc","ts":"2026-11-02T10:30:00Z","csv":"a,b,,c","t":1793615400,"maybe":"maybe","feb30":"2026-02-30","one":1,"num":1e3}
        """#

    static let cases: [(String, String)] = [
        // Arrays and `in`.
        (#"status in ["paid", "shipped"]"#, "true"),
        (#"status in ["new"]"#, "false"),
        (#""b" in tags"#, "true"),
        ("status in missing", "null"),
        ("[1, status, 2.5]", #"[1,"paid",2.5]"#),
        ("[]", "[]"),
        ("items[*].sku", #"["A","B",null]"#),
        ("missing[*].sku", "null"),
        ("len(items[*].price)", "3"),
        // if / coalesce / exists (lazy: the untaken branch would fail).
        (#"if(status == "paid", "yes", 1 / 0)"#, #""yes""#),
        (#"if(n, 1, 2)"#, "2"),
        (#"if(status, 1, 2)"#, "error: if() needs a bool condition, got string in 'if(status, 1, 2)'"),
        ("coalesce(n, missing, status, 1 / 0)", #""paid""#),
        ("coalesce(n, missing)", "null"),
        ("exists(n)", "true"),
        ("exists(missing)", "false"),
        // Strings.
        ("lower(name)", #""  héllo world ""#),
        ("upper(status)", #""PAID""#),
        ("trim(name)", #""Héllo World""#),
        ("lower(n)", "error: lower() needs a string, got null in 'lower(n)'"),
        (#"contains(name, "World")"#, "true"),
        (#"contains(tags, "c")"#, "false"),
        (#"starts_with(status, "pa")"#, "true"),
        (#"ends_with(status, "pa")"#, "false"),
        (#"replace(csv, ",", ";")"#, #""a;b;;c""#),
        (#"split(csv, ",")"#, #"["a","b","","c"]"#),
        (#"join(tags, "-")"#, #""a-b""#),
        (#"join(ints, "-")"#, "error: join() needs an array of strings, found int in 'join(ints, \"-\")'"),
        ("substr(trim(name), 1, 4)", #""éllo""#),
        ("substr(status, -2)", #""id""#),
        ("substr(status, 10)", #""""#),
        (#"matches(status, "^p[a-z]+$")"#, "true"),
        (#"matches(sx, "\\d")"#, "false"),
        // Numbers.
        ("floor(3.7)", "3"), ("ceil(3.2)", "4"), ("floor(-3.5)", "-4"),
        ("abs(-2)", "2"), ("abs(-2.5)", "2.5"),
        ("min(3, 1.5, 2)", "1.5"), ("max(ints)", "3"), ("max(items[*].price)", "3.5"),
        ("sum(items[*].price)", "5.5"), ("sum(ints)", "6"), ("count(items[*].price)", "2"), ("count(tags)", "2"),
        ("sum(missing[*].x)", "null"),
        ("sum(tags)", "error: sum() needs an array of numbers, found string in 'sum(tags)'"),
        // Conversions: a string that does not convert is an error, never null or 0.
        ("int(s42)", "42"), ("int(s39)", "3"), ("int(3.9)", "3"), ("int(n)", "null"), ("int(true)", "1"),
        ("int(sx)", #"error: int() cannot convert "abc" to a number in 'int(sx)'"#),
        ("float(s42)", "42.0"), ("float(sx)", #"error: float() cannot convert "abc" to a number in 'float(sx)'"#),
        ("string(one)", #""1""#), ("string(num)", #""1e3""#), ("string(ints)", #""[1,2,3]""#), ("string(n)", "null"),
        ("bool(one)", "true"), (#"bool("FALSE")"#, "false"), ("bool(maybe)", #"error: bool() cannot convert "maybe" to a bool in 'bool(maybe)'"#),
        // Time.
        ("parse_time(ts)", "1793615400"),
        (#"parse_time("2026-11-02 11:30:00+01:00")"#, "1793615400"),
        (#"parse_time("02/11/2026 10:30", "%d/%m/%Y %H:%M")"#, "1793615400"),
        (#"parse_time("02/11/2026 11:30", "%d/%m/%Y %H:%M", "Europe/Paris")"#, "1793615400"),
        ("parse_time(feb30)", #"error: parse_time() cannot read "2026-02-30" as a time in 'parse_time(feb30)'"#),
        ("format_time(t)", #""2026-11-02T10:30:00Z""#),
        ("format_time(t + 0.25)", #""2026-11-02T10:30:00.250Z""#),
        (#"format_time(t, "%Y%m%d %H:%M %a %b %j", "+02:00")"#, #""20261102 12:30 Mon Nov 306""#),
        (#"format_time(t, "%F %T %z", "America/New_York")"#, #""2026-11-02 05:30:00 -0500""#),
        (#"format_time(parse_time("1969-12-31T23:59:59Z"))"#, #""1969-12-31T23:59:59Z""#),
        // Hash: XXH64 hex, stable.
        (#"hash("")"#, #""ef46db3751d8e999""#),
        (#"hash("a")"#, #""d24ec4f1a98c6e5b""#),
        (#"hash("abc")"#, #""44bc2cf5ad770999""#),
        (#"hash("Nobody inspects the spammish repetition")"#, #""fbcea83c8a378bf1""#),
        ("hash(n)", "error: hash() needs a value, got null in 'hash(n)'"),
    ]

    @Test(arguments: cases) func evaluates(source: String, expected: String) throws {
        #expect(try evaluate(source, on: Self.record) == expected, "\(source)")
    }

    static let compileErrors: [(String, String)] = [
        (#"matches(status, "(")"#, "matches(): invalid regular expression '(' at column 17"),
        ("matches(status, name)", "matches(): the pattern must be a string literal, so that it is checked once when the config loads at column 17"),
        (#"parse_time(ts, "%Q")"#, "parse_time(): unknown directive '%Q' in time format (supported: %Y %m %d %H %M %S %f %L %z %Z %s %j %b %a %T %F %%) at column 16"),
        (#"format_time(1, "%Y", "Mars/Base")"#, "format_time(): unknown time zone 'Mars/Base' (use UTC, an offset such as +02:00, or an IANA name such as Europe/Paris) at column 22"),
        ("exists(1)", "exists(): needs a field path such as 'customer.id' at column 8"),
        (#"status in "paid""#, #"'in' needs an array on its right, got string at column 11 (write a list such as ["a", "b"])"#),
        ("coalesce()", "coalesce() takes 1 to 64 arguments, got 0 at column 1"),
        (#"bool("maybe")"#, #"bool() cannot convert "maybe" to a bool in 'bool("maybe")' at column 1"#),
        ("a in b in c", "'in' cannot be chained at column 8 (use parentheses)"),
        ("[1, 2", "expected ',' or ']' in array opened at column 1, found end of expression at column 6"),
    ]

    @Test(arguments: compileErrors) func rejectsAtCompileTime(source: String, message: String) {
        #expect(throws: ExpressionError.self) { try CompiledExpression(source) }
        do {
            _ = try CompiledExpression(source)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func nowIsTheRunStartAndIsNotFolded() throws {
        let expression = try CompiledExpression("format_time(now())")
        let batch = try ndjsonBatch("{}")
        let text: String = batch.withView { view in
            let value = try? expression.evaluate(record: Int(batch.records[0].tapeStart), in: view, now: 1_793_615_400)
            guard case .string(let bytes)? = value else { return "" }
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(text == "2026-11-02T10:30:00Z")
    }

    @Test func wildcardPathsPrintAndParse() throws {
        #expect(try FieldPath(parsing: "items[*].sku").description == "items[*].sku")
    }

    @Test func timeCalendarRoundTrips() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = TimeFormat.civil(days: days)
            #expect(TimeFormat.days(year: y, month: m, day: d) == days)
        }
    }
}
