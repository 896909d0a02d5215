import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct FilterStageTests {
    static let orders = """
        {"id":1,"status":"shipped","total":10}
        {"id":2,"status":"cancelled","total":5}
        {"id":3,"total":7}

        {"id":4,"status":"cancel\\u006Ced","total":"n/a"}
        """

    func run(_ condition: String, on text: String = orders) throws -> Batch {
        let stage = try FilterStage.make(config: .init(condition: condition))
        var batch = try ndjsonBatch(text)
        stage.process(&batch, context: testContext)
        return batch
    }

    @Test func keepsTrueDropsFalse() throws {
        let batch = try run(#"status != "cancelled""#)
        #expect(recordTexts(batch) == [#"{"id":1,"status":"shipped","total":10}"#, #"{"id":3,"total":7}"#])
        #expect(batch.filtered == 2)
        #expect(batch.errors.isEmpty)
    }

    @Test func nullDropsRecord() throws {
        let batch = try run("id > 1 && status != 'cancelled' || status == 'shipped'")
        // Record 3: `status != 'cancelled'` is true (missing is not "cancelled").
        #expect(recordTexts(batch).count == 2)
        let missing = try run("nope > 1")
        #expect(missing.records.isEmpty)
        #expect(missing.filtered == 4)
    }

    @Test func evaluationErrorsFailRecords() throws {
        let batch = try run("10 / (total - 5) > 1")
        #expect(batch.records.map(\.line) == [1, 3])
        #expect(errorLines(batch) == [
            "2 transform: division by zero in '10 / (total - 5)'",
            "5 transform: '-' needs numbers, got string and int in '(total - 5)'",
        ])
        let error = try #require(batch.errors.first)
        #expect(error.file == "orders.ndjson")
        #expect(error.stage == "test")
        #expect(error.offset == 39)
        #expect(error.record == .json(Array(#"{"id":2,"status":"cancelled","total":5}"#.utf8)))
    }

    @Test func nonBooleanResultFailsRecord() throws {
        let batch = try run("total")
        #expect(errorLines(batch) == [
            "1 transform: filter expression returned an int",
            "2 transform: filter expression returned an int",
            "3 transform: filter expression returned an int",
            "5 transform: filter expression returned a string",
        ])
        #expect(batch.records.isEmpty)
    }

    @Test func configErrors() {
        #expect(throws: StageConfigError(problems: [
            StageConfigProblem(keyPath: ["filter"], message: "unknown function 'lenn' at column 1 (did you mean 'len'?)", column: 1),
        ])) { try FilterStage.make(config: .init(condition: "lenn(items) > 1")) }
        #expect(throws: StageConfigError(problems: [
            StageConfigProblem(keyPath: ["filter"], message: "a filter needs a condition that is true or false, but 'len(items)' is always a number", column: 1),
        ])) { try FilterStage.make(config: .init(condition: "len(items)")) }
    }

    @Test func emptyBatch() throws {
        let stage = try FilterStage.make(config: .init(condition: "true"))
        var batch = Batch(file: 0, index: 0)
        stage.process(&batch, context: testContext)
        #expect(batch.records.isEmpty && batch.errors.isEmpty && batch.filtered == 0)
    }
}
