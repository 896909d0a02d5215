import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Regressions found in review of the record-editing stages.
@Suite struct StageReviewTests {
    func run(_ stage: some Stage, _ text: String) throws -> Batch {
        var batch = try ndjsonBatch(text)
        stage.process(&batch, context: testContext)
        return batch
    }

    /// Fields past the 64th of one object were neither dropped nor overwritten in place:
    /// `drop` kept them, `set` wrote the key a second time.
    @Test func editsReachEveryFieldOfAWideObject() throws {
        let names = (0..<70).map { "f\($0)" }
        let record = "{" + names.map { "\"\($0)\":0" }.joined(separator: ",") + ",\"keep\":1}"
        let dropped = try run(try DropStage.make(config: .init(fields: names)), record)
        #expect(recordTexts(dropped) == [#"{"keep":1}"#])

        let set = try run(try SetStage.make(config: .init(fields: names.map { .init(key: $0, expression: "1") })), record)
        let expected = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + ",\"keep\":1}"
        #expect(recordTexts(set) == [expected])

        let nested = try run(try DropStage.make(config: .init(fields: names.map { "a.\($0)" })), #"{"a":\#(record)}"#)
        #expect(recordTexts(nested) == [#"{"a":{"keep":1}}"#])
    }

    /// With a separator of several characters, keys that begin or end with part of it
    /// can join into the same flat key although neither holds the whole separator.
    @Test func flattenFindsKeysThatMeetAcrossAMultiCharacterSeparator() throws {
        let batch = try run(try FlattenStage.make(config: .init(separator: "__")), """
            {"a":{"_id":1},"a_":{"id":2}}
            {"a":{"_id":1},"b_":{"id":2}}
            """)
        #expect(recordTexts(batch) == [#"{"a___id":1,"b___id":2}"#])
        #expect(errorLines(batch) == ["1 transform: flatten: two fields flatten to the same key 'a___id'"])
    }

    /// Range bounds compared integers through Double, so 2^53 + 1 passed a maximum of 2^53.
    @Test func rangesCompareBigIntegersExactly() throws {
        var batch = try ndjsonBatch("""
            {"n":9007199254740993}
            {"n":9007199254740992}
            {"n":-9007199254740993}
            """)
        try ValidateStage.make(config: .init(ranges: [.init(field: "n", min: -9007199254740992, max: 9007199254740992)]))
            .process(&batch, context: testContext)
        #expect(recordTexts(batch) == [#"{"n":9007199254740992}"#])
        #expect(errorLines(batch) == [
            "1 validation: field 'n' is 9007199254740993, above the maximum 9007199254740992",
            "3 validation: field 'n' is -9007199254740993, below the minimum -9007199254740992",
        ])
    }
}
