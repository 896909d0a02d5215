import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct StageLibraryTests {
    static let input = """
        {"id":1,"status":"paid","total":"12.5","customer":{"id":"C1","email":"a@x"},"items":[{"sku":"A"},{"sku":"B"}]}
        {"id":2,"status":null,"total":"abc","items":[]}
        {"id":3,"total":7,"customer":5}
        """

    func run(_ stage: some Stage, _ text: String = input) throws -> Batch {
        var batch = try ndjsonBatch(text)
        stage.process(&batch, context: testContext)
        #expect(batch.records.allSatisfy { $0.tapeStart == -1 } || !(stage is SetStage))
        return batch
    }

    @Test func setWritesAndOverwritesFromTheInputRecord() throws {
        let stage = try SetStage.make(config: .init(fields: [
            .init(key: "id", expression: "id * 10"),
            .init(key: "customer.tier", expression: #"if(id == 1, "gold", "std")"#),
            .init(key: "status", expression: "coalesce(status, \"new\")"),
        ]))
        let batch = try run(stage)
        #expect(recordTexts(batch) == [
            #"{"id":10,"status":"paid","total":"12.5","customer":{"id":"C1","email":"a@x","tier":"gold"},"items":[{"sku":"A"},{"sku":"B"}]}"#,
            #"{"id":20,"status":"new","total":"abc","items":[],"customer":{"tier":"std"}}"#,
            #"{"id":30,"total":7,"customer":{"tier":"std"},"status":"new"}"#,
        ])
        #expect(batch.records.map(\.line) == [1, 2, 3])
    }

    @Test func setFailsTheRecordOnAnEvaluationError() throws {
        let stage = try SetStage.make(config: .init(fields: [.init(key: "n", expression: "int(total)")]))
        let batch = try run(stage)
        #expect(recordTexts(batch).count == 2)
        #expect(errorLines(batch) == [#"2 transform: int() cannot convert "abc" to a number in 'int(total)'"#])
    }

    @Test func setRejectsBadConfigs() {
        #expect(throws: StageConfigError.self) { try SetStage.make(config: .init(fields: [.init(key: "a", expression: "lenn(x)")])) }
        #expect(throws: StageConfigError.self) { try SetStage.make(config: .init(fields: [.init(key: "a[0]", expression: "1")])) }
        #expect(throws: StageConfigError.self) { try SetStage.make(config: .init(fields: [.init(key: "a", expression: "1"), .init(key: "a.b", expression: "2")])) }
        #expect(throws: StageConfigError.self) { try SetStage.make(config: .init(fields: [])) }
    }

    @Test func renameMovesValuesByteForByte() throws {
        let stage = try RenameStage.make(config: .init(fields: [(from: "customer.id", to: "customer_id"), (from: "status", to: "state")]))
        let batch = try run(stage)
        #expect(recordTexts(batch) == [
            #"{"id":1,"total":"12.5","customer":{"email":"a@x"},"items":[{"sku":"A"},{"sku":"B"}],"customer_id":"C1","state":"paid"}"#,
            #"{"id":2,"total":"abc","items":[],"state":null}"#,
            #"{"id":3,"total":7,"customer":5}"#,
        ])
    }

    @Test func dropRemovesFields() throws {
        let batch = try run(try DropStage.make(config: .init(fields: ["items", "customer.email", "missing"])))
        #expect(recordTexts(batch) == [
            #"{"id":1,"status":"paid","total":"12.5","customer":{"id":"C1"}}"#,
            #"{"id":2,"status":null,"total":"abc"}"#,
            #"{"id":3,"total":7,"customer":5}"#,
        ])
        #expect(throws: StageConfigError.self) { try DropStage.make(config: .init(fields: ["a b"])) }
    }

    @Test func castConvertsOrFailsNamingTheField() throws {
        let batch = try run(try CastStage.make(config: .init(fields: [.init(key: "total", expression: "float"), .init(key: "id", expression: "string")])))
        #expect(recordTexts(batch) == [
            #"{"id":"1","status":"paid","total":12.5,"customer":{"id":"C1","email":"a@x"},"items":[{"sku":"A"},{"sku":"B"}]}"#,
            #"{"id":"3","total":7.0,"customer":5}"#,
        ])
        #expect(errorLines(batch) == [#"2 transform: cast of field 'total': float() cannot convert "abc" to a number in 'float(total)'"#])
        do {
            _ = try CastStage.make(config: .init(fields: [.init(key: "a", expression: "integer")]))
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "cast.a: unknown type 'integer' (expected one of int, float, string, bool); did you mean 'int'?")
        }
    }

    @Test func defaultFillsMissingAndNullOnly() throws {
        let batch = try run(try DefaultStage.make(config: .init(fields: [.init(key: "status", expression: #""new""#), .init(key: "customer.id", expression: #""anon""#)])))
        #expect(recordTexts(batch) == [
            #"{"id":1,"status":"paid","total":"12.5","customer":{"id":"C1","email":"a@x"},"items":[{"sku":"A"},{"sku":"B"}]}"#,
            #"{"id":2,"status":"new","total":"abc","items":[],"customer":{"id":"anon"}}"#,
            #"{"id":3,"total":7,"customer":{"id":"anon"},"status":"new"}"#,
        ])
    }

    @Test func explodeMakesOneRecordPerElement() throws {
        var batch = try run(try ExplodeStage.make(config: .init(field: "items", target: "item")))
        #expect(recordTexts(batch) == [
            #"{"id":1,"status":"paid","total":"12.5","customer":{"id":"C1","email":"a@x"},"item":{"sku":"A"}}"#,
            #"{"id":1,"status":"paid","total":"12.5","customer":{"id":"C1","email":"a@x"},"item":{"sku":"B"}}"#,
        ])
        #expect(batch.filtered == 2)   // an empty array and a missing field
        #expect(batch.created == 1)
        #expect(batch.records.map(\.line) == [1, 1])
        batch = try run(try ExplodeStage.make(config: .init(field: "customer")))
        #expect(errorLines(batch) == ["1 transform: explode field 'customer' is an object, not an array", "3 transform: explode field 'customer' is an int, not an array"])
    }

    @Test func sampleIsDeterministicByKey() throws {
        let text = (0..<2000).map { #"{"id":\#($0 % 500)}"# }.joined(separator: "\n")
        let stage = try SampleStage.make(config: .init(rate: 0.25, key: "id"))
        let a = try run(stage, text)
        let b = try run(stage, text)
        #expect(recordTexts(a) == recordTexts(b))
        // Every copy of a key shares its fate.
        #expect(a.records.count % 4 == 0)
        #expect((300...700).contains(a.records.count))
        #expect(try run(SampleStage.make(config: .init(rate: 1, key: "id")), text).records.count == 2000)
        #expect(try run(SampleStage.make(config: .init(rate: 0, key: "id")), text).records.count == 0)
        #expect(throws: StageConfigError.self) { try SampleStage.make(config: .init(rate: 2, key: "id")) }
    }

    @Test func dedupeKeepsTheFirstOccurrenceAndFailsPastMaxKeys() throws {
        let stage = try DedupeStage.make(config: .init(key: "id", maxKeys: 3))
        var batch = try run(stage, #"{"id":1}"# + "\n" + #"{"id":"1"}"# + "\n" + #"{"id":1}"# + "\n" + #"{"x":1}"# + "\n" + #"{"x":2}"#)
        #expect(recordTexts(batch) == [#"{"id":1}"#, #"{"id":"1"}"#, #"{"x":1}"#, #"{"x":2}"#])
        #expect(batch.filtered == 1)
        #expect(batch.fatal == nil)
        batch = try run(stage, #"{"id":1}"# + "\n" + #"{"id":7}"# + "\n" + #"{"id":8}"#)
        #expect(batch.fatal?.contains("max_keys (3)") == true)
        #expect(stage.keyCount == 3)
    }

    @Test func limitKeepsTheFirstRecords() throws {
        let stage = try LimitStage.make(config: .init(count: 3))
        let a = try run(stage, "{\"a\":1}\n{\"a\":2}")
        let b = try run(stage, "{\"a\":3}\n{\"a\":4}")
        #expect(recordTexts(a) == [#"{"a":1}"#, #"{"a":2}"#])
        #expect(recordTexts(b) == [#"{"a":3}"#])
        #expect(b.filtered == 1)
    }

    // MARK: Through the runtime

    /// Runs `stages` YAML on generated input with `workers` workers per stage.
    func runPipeline(stages: String, workers: Int, files: [String: String], extra: String = "") throws -> (RunSummary, String, String) {
        let dir = TestSupport.temporaryDirectory("sluice-stagelib")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        for (name, text) in files { try TestSupport.write(text, to: input.appendingPathComponent(name)) }
        let yaml = """
            name: t
            input: { path: \(input.path), readers: \(workers) }
            batch_size: 7
            stages:
            \(stages.replacingOccurrences(of: "WORKERS", with: String(workers)))
            output: { path: \(dir.appendingPathComponent("out").path) }
            \(extra)
            """
        let config = try PipelineConfig.parse(yaml: yaml)
        let out = dir.appendingPathComponent("out")
        let summary = TestSupport.run(config, input: input, output: out)
        let output = summary.outputs.first.map { String(decoding: TestSupport.read(URL(fileURLWithPath: $0)), as: UTF8.self) } ?? ""
        let errors = String(decoding: TestSupport.read(URL(fileURLWithPath: summary.errorReport)), as: UTF8.self)
        return (summary, output, errors)
    }

    static let files: [String: String] = {
        var files: [String: String] = [:]
        for f in 0..<4 {
            files["f\(f).ndjson"] = (0..<150).map { i in #"{"id":\#((i * 7 + f * 13) % 90),"f":\#(f),"i":\#(i)}"# }.joined(separator: "\n") + "\n"
        }
        files["empty.ndjson"] = ""
        return files
    }()

    @Test func dedupeAndLimitAreTheSameWithOneOrFourWorkers() throws {
        let stages = """
              - { name: pre, filter: 'i % 5 != 1', workers: WORKERS }
              - { name: unique, dedupe: { key: id }, workers: WORKERS }
              - { name: first, limit: 60, workers: WORKERS }
              - { name: tag, set: { seen: 'true' }, workers: WORKERS }
            """
        let (one, outOne, _) = try runPipeline(stages: stages, workers: 1, files: Self.files)
        let (four, outFour, _) = try runPipeline(stages: stages, workers: 4, files: Self.files)
        #expect(one.exitCode == 0)
        #expect(outOne == outFour)
        #expect(outOne.split(separator: "\n").count == 60)
        #expect(one.records == four.records)
        #expect(one.records.in == one.records.out + one.records.filtered + one.records.failed + one.records.discarded + one.records.dropped - one.records.created)
    }

    @Test func onErrorDropCountsWithoutReporting() throws {
        let stages = """
              - { name: conv, cast: { f: bool }, on_error: drop }
            """
        let (summary, output, errors) = try runPipeline(stages: stages, workers: 2, files: Self.files)
        #expect(summary.exitCode == 0)
        #expect(errors.isEmpty)
        #expect(summary.records.dropped == 300)   // f = 2 and f = 3 do not convert
        #expect(summary.stages[0].recordsDropped == 300)
        #expect(summary.records.in == summary.records.out + summary.records.dropped)
        #expect(output.split(separator: "\n").count == 300)
    }

    /// The run stops at the first failing record in input order, whatever the worker
    /// count and timing (the sink, which commits in order, performs the stop).
    @Test(arguments: [1, 2, 4]) func onErrorFailStopsTheRunNamingStageAndError(workers: Int) throws {
        let (summary, _, _) = try runPipeline(stages: "  - { name: conv, cast: { f: bool }, on_error: fail, workers: WORKERS }", workers: workers, files: Self.files)
        #expect(summary.exitCode == 1)
        #expect(summary.failure == "stage 'conv' failed a record (on_error: fail) at f2.ndjson:1: cast of field 'f': bool() cannot convert the number 2.0 to a bool (only 0 and 1) in 'bool(f)'")
        #expect(summary.outputs.isEmpty)
    }

    @Test func onErrorReportIsTheDefault() throws {
        let (summary, _, errors) = try runPipeline(stages: "  - { name: conv, cast: { f: bool } }", workers: 2, files: Self.files)
        #expect(summary.exitCode == 0)
        #expect(summary.records.failed == 300)
        #expect(errors.contains(#""stage":"conv""#))
    }

    @Test func dedupePastMaxKeysFailsTheRun() throws {
        let (summary, _, _) = try runPipeline(stages: "  - { name: u, dedupe: { key: i, max_keys: 100 } }", workers: 2, files: Self.files)
        #expect(summary.exitCode == 1)
        #expect(summary.failure?.hasPrefix("stage 'u' failed: more than max_keys (100) distinct keys") == true)
    }

    @Test func configErrorsNameThePlace() {
        #expect(throws: ConfigError.self) {
            try PipelineConfig.parse(yaml: "name: t\ninput: {path: x}\noutput: {path: y}\nstages:\n  - { set: { a: 'lenn(b)' } }\n")
        }
        do {
            _ = try PipelineConfig.parse(yaml: "name: t\ninput: {path: x}\noutput: {path: y}\nstages:\n  - { limit: 3, on_error: explode }\n")
        } catch {
            #expect("\(error)".contains("on_error"))
        }
    }
}
