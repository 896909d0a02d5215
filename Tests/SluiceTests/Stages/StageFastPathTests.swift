import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The fast paths of `filter` (a text comparison asked of its node directly) and
/// `validate` (a pass/fail pre-check of `required` and `types` before any message is
/// built) must decide every record as the general path does: random records with the
/// fields missing, null, of every kind, escaped, duplicated.
@Suite struct StageFastPathTests {
    static func records(seed: UInt64, count: Int) -> String {
        var rng = SplitMix64(seed: seed)
        let keys = ["id", "total", "status", #"st\u0061tus"#, "n", "x"]
        let values = ["null", "true", "false", "1", "-0", "2.5", "1e3", "12345678901234567890", #""cancelled""#,
                      #""paid""#, #""c\u0061ncelled""#, #""""#, "[]", "{}", #"{"id":1}"#, #"["cancelled"]"#]
        var lines: [String] = []
        for _ in 0..<count {
            let members = (0..<Int(rng.next() % 6)).map { _ in
                #""\#(keys[Int(rng.next() % UInt64(keys.count))])":\#(values[Int(rng.next() % UInt64(values.count))])"#
            }
            lines.append("{" + members.joined(separator: ",") + "}")
        }
        return lines.joined(separator: "\n")
    }

    @Test(arguments: [#"status != "cancelled""#, #"status == "cancelled""#, #""paid" == status"#, #"status != """#])
    func filterDecidesAsTheExpressionDoes(_ condition: String) throws {
        let stage = try FilterStage.make(config: .init(condition: condition))
        let compiled = try CompiledExpression(condition)
        var batch = try ndjsonBatch(Self.records(seed: 0xF117E5, count: 2_000))
        let input = batch
        var expected: [Int] = []
        input.withView { view in
            for slot in input.records {
                if (try? compiled.evaluate(record: Int(slot.tapeStart), in: view)) == .bool(true) { expected.append(slot.line) }
            }
        }
        stage.process(&batch, context: testContext)
        #expect(batch.records.map(\.line) == expected)
        #expect(batch.filtered == input.records.count - expected.count)
        #expect(batch.errors.isEmpty)
    }

    @Test(arguments: [
        ValidateStage.Config(required: ["id", "total"], types: [.init(field: "id", type: "int"), .init(field: "total", type: "number")]),
        ValidateStage.Config(required: ["id"], types: [.init(field: "total", type: "string"), .init(field: "n", type: "null"), .init(field: "x", type: "array")]),
        ValidateStage.Config(types: [.init(field: "status", type: "string"), .init(field: "id", type: "bool")]),
        ValidateStage.Config(required: ["id", "id", "status"], types: [.init(field: "status", type: "object"), .init(field: "x", type: "number")]),
        // Paths of more than one step (looked up by their steps, not as one key) beside one-key paths.
        ValidateStage.Config(required: ["x.id", "status"], types: [.init(field: "x.id", type: "int"), .init(field: "x[0]", type: "string"), .init(field: "total", type: "number")]),
    ])
    func validateDecidesAsItsMessagesDo(_ config: ValidateStage.Config) throws {
        let stage = try ValidateStage.make(config: config)
        var batch = try ndjsonBatch(Self.records(seed: 0x7A11D, count: 2_000))
        let input = batch
        var expected: [String] = []
        var kept: [Int] = []
        input.withView { view in
            for slot in input.records {
                if let message = stage.failures(root: Int(slot.tapeStart), view: view) {
                    expected.append("\(slot.line) validation: \(message)")
                } else {
                    kept.append(slot.line)
                }
            }
        }
        stage.process(&batch, context: testContext)
        #expect(batch.records.map(\.line) == kept)
        #expect(errorLines(batch) == expected)
        #expect(!kept.isEmpty && !expected.isEmpty, "both outcomes are exercised")
    }
}
