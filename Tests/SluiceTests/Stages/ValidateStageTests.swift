import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct ValidateStageTests {
    @Test func namesEveryFailedRule() throws {
        let stage = try ValidateStage.make(config: .init(
            required: ["id", "total", "customer.id"],
            types: [.init(field: "id", type: "int"), .init(field: "total", type: "number"), .init(field: "tags", type: "array"),
                    .init(field: "note", type: "null")]))
        var batch = try ndjsonBatch("""
            {"id":1,"total":9.5,"customer":{"id":"c"},"tags":[]}
            {"id":"x","customer":{}}
            {"id":3.0,"total":null,"customer":{"id":1},"tags":"a"}
            {"id":12345678901234567890,"total":1e400,"customer":{"id":null},"tags":null,"note":null}
            {"id":5,"total":-0,"customer":{"id":"c"},"note":"hi"}
            """)
        stage.process(&batch, context: testContext)
        #expect(batch.records.map(\.line) == [1])
        #expect(errorLines(batch) == [
            "2 validation: missing required field 'total'; missing required field 'customer.id'; field 'id' must be int, got string",
            "3 validation: required field 'total' is null; field 'id' must be int, got double; field 'tags' must be array, got string",
            "4 validation: required field 'customer.id' is null",
            "5 validation: field 'note' must be null, got string",
        ])
        #expect(batch.filtered == 0)
    }

    @Test(arguments: [
        ("string", #""s""#, true), ("string", "1", false),
        ("int", "1", true), ("int", "-7", true), ("int", "3.0", false), ("int", "3e0", false), ("int", "99999999999999999999999", true),
        ("number", "1", true), ("number", "1.5e3", true), ("number", #""1""#, false),
        ("bool", "true", true), ("bool", "false", true), ("bool", "0", false),
        ("object", "{}", true), ("object", "[]", false),
        ("array", "[]", true), ("array", "{}", false),
        ("null", "null", true), ("null", "0", false),
    ])
    func typeRule(type: String, value: String, passes: Bool) throws {
        let stage = try ValidateStage.make(config: .init(types: [.init(field: "v", type: type)]))
        var batch = try ndjsonBatch(#"{"v":\#(value)}"#)
        stage.process(&batch, context: testContext)
        #expect(batch.records.count == (passes ? 1 : 0))
    }

    @Test func configErrorsAreAllReported() {
        #expect(throws: StageConfigError(problems: [
            StageConfigProblem(keyPath: ["validate", "required", "1"], message: "expected a field name after '.', found '.' at column 10", column: 10),
            StageConfigProblem(keyPath: ["validate", "types", "id"],
                               message: "unknown type 'integer' (expected one of string, int, number, bool, object, array, null); did you mean 'int'?"),
            StageConfigProblem(keyPath: ["validate", "types", "total"],
                               message: "unknown type 'numbr' (expected one of string, int, number, bool, object, array, null); did you mean 'number'?"),
            StageConfigProblem(keyPath: ["validate", "types", "a b"], message: "unexpected 'b' at column 3", column: 3),
        ])) {
            try ValidateStage.make(config: .init(
                required: ["id", "customer..id"],
                types: [.init(field: "id", type: "integer"), .init(field: "total", type: "numbr"), .init(field: "a b", type: "int")]))
        }
        #expect(throws: StageConfigError(problems: [
            StageConfigProblem(keyPath: ["validate"], message: "validate needs at least one rule in 'required', 'types', 'ranges', 'enums', 'patterns', 'lengths' or 'rules'"),
        ])) { try ValidateStage.make(config: .init()) }
    }
}
