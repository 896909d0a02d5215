import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct SelectStageTests {
    static let config = SelectStage.Config(fields: [
        .init(key: "id", expression: "id"),
        .init(key: "ts", expression: "ts"),
        .init(key: "customer_id", expression: "customer.id"),
        .init(key: "country", expression: "customer.country"),
        .init(key: "total", expression: "total"),
        .init(key: "item_count", expression: "len(items)"),
        .init(key: "total_cents", expression: "round(total * 100)"),
        .init(key: "first_sku", expression: "items[0].sku"),
        .init(key: "label", expression: "'order ' + ts"),
    ])

    @Test func buildsNewRecordsWithRawPassThrough() throws {
        let stage = try SelectStage.make(config: Self.config)
        var batch = try ndjsonBatch("""
            {"id":12345678901234567890,"ts":"2024-01-01","customer":{"id":"C\\u00e9","country":"DE"},"total":19.99,"items":[{"sku":"A"},2,3],"extra":1}
            {"id":2,"ts":"x","total":"oops","items":[]}
            {  "total" : 1.5e3 , "items" : { "a" : 1 } , "id" : 3 , "ts" : "t\\"q" }
            {"id":4,"ts":"y","total":1e400,"items":[]}
            """)
        stage.process(&batch, context: testContext)
        #expect(recordTexts(batch) == [
            #"{"id":12345678901234567890,"ts":"2024-01-01","customer_id":"C\u00e9","country":"DE","total":19.99,"item_count":3,"total_cents":1999,"first_sku":"A","label":"order 2024-01-01"}"#,
            #"{"id":3,"ts":"t\"q","customer_id":null,"country":null,"total":1.5e3,"item_count":1,"total_cents":150000,"first_sku":null,"label":"order t\"q"}"#,
        ])
        #expect(batch.records.map(\.line) == [1, 3])
        #expect(batch.records.allSatisfy { $0.tapeStart == -1 })
        #expect(batch.tape.isEmpty)
        #expect(errorLines(batch) == [
            "2 transform: '*' needs numbers, got string and int in 'total * 100'",
            "4 transform: number out of range in 'total * 100'",
        ])
        // The error report shows the input record, not the output.
        #expect(batch.errors[0].record == .json(Array(#"{"id":2,"ts":"x","total":"oops","items":[]}"#.utf8)))

        // The output indexes again for the next stage.
        for slot in batch.records.indices { try batch.indexRecord(at: slot) }
        #expect(batch.isIndexed)
    }

    @Test func computedValuesAreWrittenAsJSON() throws {
        let stage = try SelectStage.make(config: .init(fields: [
            .init(key: "half", expression: "n / 2"), .init(key: "ok", expression: "n > 1"), .init(key: "unknown", expression: "m > 1"),
            .init(key: "quote", expression: #"'say "hi"\n'"#), .init(key: "k\"ey", expression: "n"),
        ]))
        var batch = try ndjsonBatch(#"{"n":3}"#)
        stage.process(&batch, context: testContext)
        #expect(recordTexts(batch) == [#"{"half":1.5,"ok":true,"unknown":null,"quote":"say \"hi\"\n","k\"ey":3}"#])
    }

    /// The record buffer writes integers itself: every digit count, signs, the extremes.
    @Test func integersAndOtherValuesInTheRecordBuffer() throws {
        let stage = try SelectStage.make(config: .init(fields: [
            .init(key: "i", expression: "round(n)"), .init(key: "neg", expression: "0 - round(n)"),
            .init(key: "list", expression: "[n, 'a', null]"), .init(key: "b", expression: "n == n"), .init(key: "\u{1}", expression: "m"),
        ]))
        let values: [(String, String, String)] = [
            ("0", "0", "0"), ("7", "7", "-7"), ("10", "10", "-10"), ("99", "99", "-99"), ("123456789", "123456789", "-123456789"),
            ("9223372036854775807", "9223372036854775807", "-9223372036854775807"),
        ]
        var batch = try ndjsonBatch(values.map { #"{"n":\#($0.0)}"# }.joined(separator: "\n"))
        stage.process(&batch, context: testContext)
        #expect(recordTexts(batch) == values.map { #"{"i":\#($0.1),"neg":\#($0.2),"list":[\#($0.0),"a",null],"b":true,"\u0001":null}"# })

        let min = try SelectStage.make(config: .init(fields: [.init(key: "m", expression: "round(n) - 1")]))
        var extreme = try ndjsonBatch(#"{"n":-9223372036854775807}"#)
        min.process(&extreme, context: testContext)
        #expect(recordTexts(extreme) == [#"{"m":-9223372036854775808}"#])
    }

    @Test func allRecordsFailing() throws {
        let stage = try SelectStage.make(config: .init(fields: [.init(key: "x", expression: "len(a)")]))
        var batch = try ndjsonBatch("{}\n{}")
        stage.process(&batch, context: testContext)
        #expect(batch.records.isEmpty)
        #expect(batch.errors.count == 2)
    }

    @Test func configErrorsAreAllReported() {
        #expect(throws: StageConfigError(problems: [
            StageConfigProblem(keyPath: ["select", "a"], message: "unknown function 'rund' at column 1 (did you mean 'round'?)", column: 1),
            StageConfigProblem(keyPath: ["select", "b"], message: "duplicate output key 'b'"),
            StageConfigProblem(keyPath: ["select", "c"], message: "unexpected ')' at column 6", column: 6),
        ])) {
            try SelectStage.make(config: .init(fields: [
                .init(key: "a", expression: "rund(x)"), .init(key: "b", expression: "x"), .init(key: "b", expression: "y"),
                .init(key: "c", expression: "(x+1))"),
            ]))
        }
        #expect(throws: StageConfigError(problems: [StageConfigProblem(keyPath: ["select"], message: "select needs at least one output field")])) {
            try SelectStage.make(config: .init(fields: []))
        }
    }
}
