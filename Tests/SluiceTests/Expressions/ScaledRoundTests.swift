import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `select` writes `round(path * 10^k)` straight from the number's text (``ScaledRound``).
/// Wherever it does, the text must be what the general path — parse to `Double`,
/// multiply, round, format the integer — gives; where the general path fails (beyond the
/// 64-bit range) or might round differently (more fraction digits than `k`, exponents,
/// more digits), the fast path must decline.
@Suite struct ScaledRoundTests {
    static let adversarial: [String] = [
        "0", "-0", "0.0", "-0.0", "0.00", "-0.00", "0.000", "0.05", "-0.05", "0.5", "-0.5", "0.005", "1.005", "2.675",
        "0.125", "-0.125", "0.135", "1.15", "1.25", "1.35", "2.5", "-2.5", "4.35", "4.345", "8.675", "0.29", "0.57",
        "1.13", "1.39", "9.95", "0.1", "0.01", "0.001", "0.0001", "486.18", "1667.50", "-1667.50", "12345.67",
        "99999999", "9999999.9", "9999999.99", "99999999.99", "999999999999.99", "9999999999999.99",
        "99999999999999.99", "999999999999999", "9999999999999999", "123456789012345", "1234567890123456",
        "-999999999999.99", "9007199254740993", "9007199254740993.5", "12345678901234567890", "-12345678901234567890",
        "1e2", "1E2", "1.5e3", "-1.5E-3", "1e-2", "2.5E+2", "1e400", "-1e400", "1e-400", "4.9e-324", "0e0",
        "1.7976931348623157e308", "0.30000000000000004", "3.14159265358979323846", "7", "-7", "10", "100", "-100",
        "0.10", "0.20", "10.01", "100.001", "1000.0001", "5.0000000001",
    ]

    /// Random literals of every shape the grammar allows, most of them short decimals.
    static func randomLiterals(_ count: Int) -> [String] {
        var rng = SplitMix64(seed: 0x5CA1_ED00)
        return (0..<count).map { _ in
            let sign = rng.next() % 4 == 0 ? "-" : ""
            let integer = rng.next() % 3 == 0 ? "0" : String(rng.next() % [10, 1_000, 100_000, 10_000_000, 1_000_000_000_000_000][Int(rng.next() % 5)])
            let digits = Int(rng.next() % 6)
            let fraction = digits == 0 ? "" : "." + (0..<digits).map { _ in String(rng.next() % 10) }.joined()
            let exponent = rng.next() % 16 == 0 ? "e" + String(Int(rng.next() % 40) - 20) : ""
            return sign + integer + fraction + exponent
        }
    }

    /// The general path's result for `round(x * 10^power)`: its text, or nil for an error.
    private func general(_ view: JSONView, _ root: Int, _ expression: CompiledExpression) -> String? {
        do throws(EvaluationError) {
            let value = try expression.evaluate(record: root, in: view)
            var writer = JSONWriter()
            SelectStage.write(value, view: view, to: &writer)
            return String(decoding: writer.bytes, as: UTF8.self)
        } catch {
            return nil
        }
    }

    /// Runs the fast path on the literal of `{"x":literal}` (its word read whole when
    /// `readable` allows, byte by byte otherwise) and checks it against the general path.
    /// Returns whether the fast path took it.
    private func check(_ literal: String, power: Int, expression: CompiledExpression, wordSized: Bool) throws -> Bool {
        // Padding after the record lets the word path read 8 bytes; none forces the bytes path.
        let text = #"{"x":\#(literal)}"# + (wordSized ? String(repeating: " ", count: 8) : "")
        let batch = try indexedBatch(text)
        return try batch.withView { view in
            let root = Int(batch.records[0].tapeStart)
            let node = try #require(view.member(of: root, key: "x"))
            let entry = view.tape[node]
            let start = Int(entry.start), count = Int(entry.end - entry.start)
            let readable = wordSized ? view.bytes.count - start : count
            let room = ScaledRound.room(count: count, power: power)
            let fast = [UInt8](unsafeUninitializedCapacity: room) { buffer, initialized in
                let n = ScaledRound.write(view.bytes.baseAddress! + start, count: count, readable: readable, power: power, to: buffer.baseAddress!)
                initialized = max(n, 0)
            }
            let expected = general(view, root, expression)
            // The fast path wrote something or declined: nothing, or a text (never empty).
            guard !fast.isEmpty else { return false }
            #expect(String(decoding: fast, as: UTF8.self) == expected, "round(\(literal) * 10^\(power)), \(wordSized ? "word" : "bytes")")
            return true
        }
    }

    @Test func sameTextAsTheGeneralPath() throws {
        var taken = 0
        var declined = 0
        let literals = Self.adversarial + Self.randomLiterals(3_000)
        for power in 0...ScaledRound.maxDigits {
            var constant: Int64 = 1
            for _ in 0..<power { constant *= 10 }
            let expressions = try [CompiledExpression("round(x * \(constant))"), CompiledExpression("round(\(constant) * x)")]
            for (k, literal) in literals.enumerated() {
                let expression = expressions[k % 2]
                for wordSized in [true, false] {
                    if try check(literal, power: power, expression: expression, wordSized: wordSized) { taken += 1 } else { declined += 1 }
                }
            }
        }
        // Both outcomes are exercised, the common one most.
        #expect(taken > 50_000 && declined > 10_000, "taken \(taken), declined \(declined)")
    }

    @Test func declinesWhereTheDoubleDecides() throws {
        // 0.125 * 100 is 12.5 exactly, 1.005 * 100 is 100.49999999999999: the Double of
        // the literal decides, so the text path must not answer.
        for (literal, power) in [("0.125", 2), ("1.005", 2), ("2.5", 0), ("1e2", 2), ("9999999999999.99", 3), ("1234567890123456", 0)] {
            let text = Array(literal.utf8) + Array(repeating: UInt8(ascii: " "), count: 8)
            let room = ScaledRound.room(count: literal.utf8.count, power: power)
            let written = text.withUnsafeBufferPointer { source in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { out in
                    ScaledRound.write(source.baseAddress!, count: literal.utf8.count, readable: text.count, power: power, to: out.baseAddress!)
                }
            }
            #expect(written == -1, "\(literal) * 10^\(power)")
        }
    }

    @Test func recognisesOnlyAPathTimesAPowerOfTen() throws {
        let builder = FieldSetBuilder()
        func scaled(_ source: String) throws -> (slot: Int, power: Int)? {
            (try CompiledExpression(source, fields: builder).root as? CallNode)?.scaledRoundOfPath
        }
        #expect(try scaled("round(total * 100)")?.power == 2)
        #expect(try scaled("round(100 * total)")?.power == 2)
        #expect(try scaled("round(total * 1)")?.power == 0)
        #expect(try scaled("round(total * 1000000000000000)")?.power == 15)
        #expect(try scaled("round(total * 10000000000000000)") == nil)
        #expect(try scaled("round(total * 50)") == nil)
        #expect(try scaled("round(total * -100)") == nil)
        #expect(try scaled("round(total * 100.0)") == nil)
        #expect(try scaled("round(total / 100)") == nil)
        #expect(try scaled("round(total + 100)") == nil)
        #expect(try scaled("round(items[0] * 100)") == nil)
        #expect(try scaled("floor(total * 100)") == nil)
        #expect(try scaled("round(total)") == nil)
    }

    /// End to end through `select`: the fast path's records and errors are the general
    /// path's, for every adversarial total, constant on either side.
    @Test func selectWritesWhatEvaluatingGives() throws {
        let fields: [SelectStage.Field] = [
            .init(key: "c", expression: "round(total * 100)"),
            .init(key: "m", expression: "round(1000 * total)"),
            .init(key: "u", expression: "round(total * 1)"),
        ]
        let totals = Self.adversarial + Self.randomLiterals(500) + [#""486.18""#, "null", "true", "[1]", "{}"]
        var lines = totals.map { #"{"id":1,"total":\#($0)}"# }
        lines.append(#"{"id":2}"#)
        // The last record's number ends the buffer: no 8-byte word fits.
        lines.append(#"{"total":12.5"# + "}")
        var batch = try ndjsonBatch(lines.joined(separator: "\n"))
        let input = batch
        let stage = try SelectStage.make(config: .init(fields: fields))
        stage.process(&batch, context: testContext)
        let compiled = try fields.map { try CompiledExpression($0.expression) }
        var expectedTexts: [String] = []
        var expectedErrors: [String] = []
        input.withView { view in
            for slot in input.records {
                var parts: [String] = []
                var failure: String?
                for (k, field) in fields.enumerated() {
                    do throws(EvaluationError) {
                        let value = try compiled[k].evaluate(record: Int(slot.tapeStart), in: view)
                        var writer = JSONWriter()
                        SelectStage.write(value, view: view, to: &writer)
                        parts.append(#""\#(field.key)":"# + String(decoding: writer.bytes, as: UTF8.self))
                    } catch {
                        failure = error.message
                        break
                    }
                }
                if let failure {
                    expectedErrors.append("\(slot.line) transform: \(failure)")
                } else {
                    expectedTexts.append("{" + parts.joined(separator: ",") + "}")
                }
            }
        }
        #expect(expectedTexts.count > 400 && expectedErrors.count > 10)
        let texts = recordTexts(batch)
        #expect(texts.count == expectedTexts.count)
        for (k, (got, want)) in zip(texts, expectedTexts).enumerated() where got != want {
            Issue.record("record \(k): \(got) != \(want)")
        }
        #expect(errorLines(batch) == expectedErrors)
    }
}
