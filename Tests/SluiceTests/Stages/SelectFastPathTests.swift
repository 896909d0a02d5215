import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `select`'s record loop copies a plain path's bytes straight from the tape (one
/// capacity check, the key prefix in whole 16-byte blocks) and writes integers into its
/// buffer. Whatever the records, its output and errors must be what evaluating each
/// field on its own (no `FieldSet`, no fast path) and writing it with `JSONWriter` gives.
@Suite struct SelectFastPathTests {
    static let fields: [SelectStage.Field] = [
        .init(key: "id", expression: "id"),
        .init(key: "ts", expression: "ts"),
        .init(key: "customer_id", expression: "customer.id"),
        .init(key: "country", expression: "customer.country"),
        .init(key: "a-key-longer-than-sixteen-bytes", expression: "total"),
        .init(key: "item_count", expression: "len(items)"),
        .init(key: "total_cents", expression: "round(total * 100)"),
        .init(key: "first", expression: "items[0]"),
        .init(key: "flag", expression: "a"),
        .init(key: "k\"\u{1}é", expression: "b.c.d"),
        .init(key: "sum", expression: "total + 1"),
        .init(key: "missing", expression: "nothing"),
        .init(key: "", expression: "items"),
    ]

    static func value(_ rng: inout SplitMix64, depth: Int) -> String {
        switch rng.next() % (depth > 1 ? 9 : 11) {
        case 0: return "null"
        case 1: return "true"
        case 2: return "false"
        case 3: return String(Int64(bitPattern: rng.next()) >> (rng.next() % 64))
        case 4: return String(Int64(rng.next() % 100_000)) + "." + String(rng.next() % 100)
        case 5: return ["1e400", "-0", "-0.0", "12345678901234567890", "1.5E-3", "0.1"][Int(rng.next() % 6)]
        case 6: return #""s\#(rng.next() % 1000)""#
        case 7: return #""\u00e9\"\\x""#
        case 8: return #""""#
        case 9: return "[" + (0..<Int(rng.next() % 4)).map { _ in value(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        default: return object(&rng, depth: depth + 1)
        }
    }

    static func object(_ rng: inout SplitMix64, depth: Int) -> String {
        let keys = ["id", "ts", "total", "customer", "items", "a", "b", "c", "d", "country", #"\u0069d"#, "idx", "t"]
        let count = Int(rng.next() % 9)
        var members = (0..<count).map { _ in #""\#(keys[Int(rng.next() % UInt64(keys.count))])":\#(value(&rng, depth: depth))"# }
        if depth == 0 {
            // Most records can be selected (a number `total`, an array `items`), somewhere.
            if rng.next() % 4 != 0 { members.insert(#""total":\#(rng.next() % 10_000).\#(rng.next() % 100)"#, at: Int(rng.next() % UInt64(members.count + 1))) }
            if rng.next() % 4 != 0 { members.insert(#""items":[\#(rng.next() % 10)]"#, at: Int(rng.next() % UInt64(members.count + 1))) }
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    @Test func sameOutputAndErrorsAsTheGeneralPath() throws {
        var rng = SplitMix64(seed: 0xC0FF_EE01)
        var lines: [String] = []
        for n in 0..<3_000 {
            // Runs of records of one shape (the FieldSet's remembered matches) and changes.
            if n % 7 == 0, let last = lines.last { lines.append(last); continue }
            lines.append(Self.object(&rng, depth: 0))
        }
        // The bench's shape, and pretty-printed whitespace inside a record.
        lines.append(#"{"id":1,"ts":"2026-11-20T18:24:10Z","status":"paid","customer":{"id":"c-221495","country":"FR"},"items":[{"sku":"S","qty":3}],"total":486.18}"#)
        lines.append(#"{ "id" : 2 , "items" : [ 1 , 2 ] , "total" : 3 }"#)
        var batch = try ndjsonBatch(lines.joined(separator: "\n"))
        let input = batch
        let stage = try SelectStage.make(config: .init(fields: Self.fields))
        stage.process(&batch, context: testContext)

        // The general path: each field compiled alone and evaluated, written by JSONWriter.
        let compiled = try Self.fields.map { try CompiledExpression($0.expression) }
        var expectedTexts: [String] = []
        var expectedErrors: [String] = []
        input.withView { view in
            for slot in input.records {
                var writer = JSONWriter()
                writer.beginObject()
                var failure: String?
                for (k, field) in Self.fields.enumerated() {
                    do throws(EvaluationError) {
                        let value = try compiled[k].evaluate(record: Int(slot.tapeStart), in: view)
                        writer.key(field.key)
                        SelectStage.write(value, view: view, to: &writer)
                    } catch {
                        failure = error.message
                        break
                    }
                }
                writer.endObject()
                if let failure {
                    expectedErrors.append("\(slot.line) transform: \(failure)")
                } else {
                    expectedTexts.append(String(decoding: writer.bytes, as: UTF8.self))
                }
            }
        }
        #expect(expectedTexts.count > 300 && expectedErrors.count > 300, "both outcomes are exercised: \(expectedTexts.count) / \(expectedErrors.count)")
        let texts = recordTexts(batch)
        #expect(texts.count == expectedTexts.count)
        for (k, (got, want)) in zip(texts, expectedTexts).enumerated() where got != want {
            Issue.record("record \(k): \(got) != \(want)")
            break
        }
        #expect(errorLines(batch) == expectedErrors)
        // Each record ends with a newline right after its slot, as the next stage expects.
        #expect(batch.records.allSatisfy { batch.bytes[$0.end] == UInt8(ascii: "\n") })
    }
}

extension SelectFastPathTests {
    /// select writes its records straight into the batch's next buffer (sized as the old
    /// one) and only output that outgrows it elsewhere: both give the same records.
    @Test(arguments: [1, 12])
    func outputLongerOrShorterThanItsInput(_ copies: Int) throws {
        let fields = (0..<copies).map { SelectStage.Field(key: "k\($0)", expression: "id") }
        let stage = try SelectStage.make(config: .init(fields: fields))
        let ids = (0..<200).map { n in String(repeating: "v", count: n % 37) + "\(n)" }
        let text = ids.map { #"{"id":"\#($0)","other":"\#(String(repeating: "o", count: 40))"}"# }.joined(separator: "\n")
        var batch = try ndjsonBatch(text)
        let inputBytes = batch.bytes.count
        stage.process(&batch, context: testContext)
        let expected = ids.map { id in "{" + (0..<copies).map { #""k\#($0)":"\#(id)""# }.joined(separator: ",") + "}" }
        #expect(recordTexts(batch) == expected)
        #expect(batch.records.allSatisfy { batch.bytes[$0.end] == UInt8(ascii: "\n") })
        #expect((batch.bytes.count > inputBytes + 64) == (copies == 12), "12 copies outgrow the input's size, 1 does not")
    }
}
