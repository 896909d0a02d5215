import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct ValidateRulesTests {
    func run(_ config: ValidateStage.Config, _ text: String) throws -> Batch {
        var batch = try ndjsonBatch(text)
        try ValidateStage.make(config: config).process(&batch, context: testContext)
        return batch
    }

    @Test func rangesAreInclusiveAndNeedNumbers() throws {
        let batch = try run(.init(ranges: [.init(field: "total", min: 0, max: 1e6), .init(field: "q", min: 0.5)]), """
            {"total":0,"q":0.5}
            {"total":1000000.5}
            {"total":-1,"q":0.25}
            {"total":"12"}
            {"total":null}
            """)
        #expect(recordTexts(batch).count == 2)
        #expect(errorLines(batch) == [
            "2 validation: field 'total' is 1000000.5, above the maximum 1000000",
            "3 validation: field 'total' is -1, below the minimum 0; field 'q' is 0.25, below the minimum 0.5",
            "4 validation: field 'total' must be a number for its range, got string",
        ])
    }

    @Test func enumsCompareAsText() throws {
        let batch = try run(.init(enums: [.init(field: "status", values: ["paid", "shipped"]), .init(field: "level", values: ["1", "2", "true"])]), """
            {"status":"paid","level":1}
            {"status":"shipped","level":"2"}
            {"status":"cancelled","level":true}
            {"status":["paid"],"level":1.0}
            """)
        #expect(recordTexts(batch).count == 2)
        #expect(errorLines(batch) == [
            "3 validation: field 'status' is 'cancelled', not one of paid, shipped",
            "4 validation: field 'status' is [\"paid\"], not one of paid, shipped; field 'level' is 1.0, not one of 1, 2, true",
        ])
    }

    @Test func patternsAndLengths() throws {
        let batch = try run(.init(patterns: [.init(key: "email", expression: "^[^@]+@[^@]+$")],
                                  lengths: [.init(field: "name", min: 1, max: 3), .init(field: "items", max: 1)]), """
            {"email":"a@b","name":"Zoë","items":[1]}
            {"email":"nope","name":"","items":[1,2]}
            {"email":5,"name":7}
            """)
        #expect(recordTexts(batch).count == 1)
        #expect(errorLines(batch) == [
            "2 validation: field 'email' does not match '^[^@]+@[^@]+$'; field 'name' has length 0, below the minimum 1; field 'items' has length 2, above the maximum 1",
            "3 validation: field 'email' must be a string to match '^[^@]+@[^@]+$', got int; field 'name' must be a string or an array for its length, got int",
        ])
    }

    @Test func rulesMustBeTrueAndNullFails() throws {
        let batch = try run(.init(required: ["id"], rules: [
            .init(expression: "total >= 0", message: "total must not be negative"),
            .init(expression: "paid"),
            .init(expression: "int(code) > 0"),
        ]), """
            {"id":1,"total":3,"paid":true,"code":"7"}
            {"total":-1,"paid":false,"code":"7"}
            {"id":3,"paid":"yes","code":"x"}
            """)
        #expect(recordTexts(batch).count == 1)
        #expect(errorLines(batch) == [
            "2 validation: missing required field 'id'; total must not be negative; rule 'paid' failed",
            "3 validation: total must not be negative; rule 'paid' failed; rule 'int(code) > 0' failed (int() cannot convert \"x\" to a number in 'int(code)')",
        ])
    }

    @Test func badRulesAreConfigErrors() {
        do {
            _ = try ValidateStage.make(config: .init(ranges: [.init(field: "a"), .init(field: "b", min: 2, max: 1)],
                                                     enums: [.init(field: "c", values: [])],
                                                     patterns: [.init(key: "d", expression: "(")],
                                                     lengths: [.init(field: "e", min: -1)],
                                                     rules: [.init(expression: "lenn(x)")]))
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.map(\.keyPath) == [["validate", "ranges", "a"], ["validate", "ranges", "b"], ["validate", "enums", "c"],
                                                       ["validate", "patterns", "d"], ["validate", "lengths", "e"], ["validate", "rules", "0", "expr"]])
            #expect(error.problems[1].message == "min 2 is above max 1")
        }
    }

    @Test func yamlKeysReachTheStageWithPositions() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in }
            output: { path: out }
            stages:
              - validate:
                  ranges: { total: { min: 0, max: 1e6 } }
                  enums: { status: [paid, shipped] }
                  patterns: { email: '^[^@]+@[^@]+$' }
                  lengths: { name: { min: 1, max: 200 } }
                  rules:
                    - { expr: 'total > 0', message: positive }
            """)
        let stage = try #require(config.stages.first?.stage as? ValidateStage)
        #expect(stage.values.count == 4 && stage.expressions.count == 1)
        do {
            _ = try PipelineConfig.parse(yaml: """
                name: t
                input: { path: in }
                output: { path: out }
                stages:
                  - validate:
                      ranges: { total: { min: 0, maxx: 1 } }
                      rules:
                        - { expr: 'total >', message: m }
                        - { message: m }
                """, file: "p.yaml")
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.map(\.description) == [
                "p.yaml:6:34: stages[0].validate.ranges.total.maxx: unknown key 'maxx' (did you mean 'max'?)",
                "p.yaml:9:11: stages[0].validate.rules[1]: missing required key 'expr'",
            ])
        }
    }
}
