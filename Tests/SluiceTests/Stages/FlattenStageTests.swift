import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct FlattenStageTests {
    func run(_ stage: some Stage, _ text: String) throws -> Batch {
        var batch = try ndjsonBatch(text)
        stage.process(&batch, context: testContext)
        return batch
    }

    @Test func flattensNestedObjectsKeepingArraysByDefault() throws {
        let batch = try run(try FlattenStage.make(config: .init()), """
            {"a":{"b":1,"c":{"d":"x\\ny"}},"e":[1,{"f":2}],"g":{},"h":[],"i":null}
            {"k":1}
            {}
            """)
        #expect(recordTexts(batch) == [
            #"{"a.b":1,"a.c.d":"x\ny","e":[1,{"f":2}],"g":{},"h":[],"i":null}"#,
            #"{"k":1}"#,
            "{}",
        ])
    }

    @Test func indexesArraysWithACustomSeparator() throws {
        let batch = try run(try FlattenStage.make(config: .init(separator: "__", arrays: "index")),
                            #"{"items":[{"sku":"A","n":[7]},{"sku":"B"}],"q\"k":{"x":true}}"#)
        #expect(recordTexts(batch) == [#"{"items__0__sku":"A","items__0__n__0":7,"items__1__sku":"B","q\"k__x":true}"#])
    }

    @Test func keysThatMeetFailTheRecord() throws {
        let batch = try run(try FlattenStage.make(config: .init()), """
            {"a.b":1,"a":{"b":2}}
            {"a.b":1,"a":{"c":2}}
            """)
        #expect(recordTexts(batch) == [#"{"a.b":1,"a.c":2}"#])
        #expect(errorLines(batch) == ["1 transform: flatten: two fields flatten to the same key 'a.b'"])
    }

    @Test func unflattenNestsAndOptionallyMakesArrays() throws {
        let batch = try run(try UnflattenStage.make(config: .init()), """
            {"a.b":1,"e":3,"a.c.d":{"x":1},"n.0":"p","n.1":"q"}
            {}
            """)
        #expect(recordTexts(batch) == [#"{"a":{"b":1,"c":{"d":{"x":1}}},"e":3,"n":{"0":"p","1":"q"}}"#, "{}"])
        let arrays = try run(try UnflattenStage.make(config: .init(separator: "/", arrays: "index")),
                             #"{"n/0":"p","n/1":{"q":1},"m/1":"x","0":true}"#)
        #expect(recordTexts(arrays) == [#"{"n":["p",{"q":1}],"m":{"1":"x"},"0":true}"#])
    }

    @Test func unflattenFailsOnClashingKeys() throws {
        let batch = try run(try UnflattenStage.make(config: .init()), """
            {"a":1,"a.b":2}
            {"a.b":2,"a":1}
            {"x":1}
            """)
        #expect(recordTexts(batch) == [#"{"x":1}"#])
        #expect(errorLines(batch) == [
            "1 transform: unflatten: key 'a.b' clashes with another key (a value and a parent, or twice)",
            "2 transform: unflatten: key 'a' clashes with another key (a value and a parent, or twice)",
        ])
    }

    @Test func flattenThenUnflattenRoundTrips() throws {
        let text = #"{"a":{"b":1,"c":{"d":[1,2],"e":{}}},"f":"g","h":[{"i":1},[]]}"#
        for arrays in ["keep", "index"] {
            var batch = try run(try FlattenStage.make(config: .init(arrays: arrays)), text)
            for slot in batch.records.indices { try batch.indexRecord(at: slot) }
            try UnflattenStage.make(config: .init(arrays: arrays)).process(&batch, context: testContext)
            #expect(recordTexts(batch) == [text], "\(arrays)")
        }
    }

    @Test func badConfigs() throws {
        #expect(throws: StageConfigError(problems: [StageConfigProblem(keyPath: ["flatten", "separator"], message: "must not be empty"),
                                                    StageConfigProblem(keyPath: ["flatten", "arrays"], message: "'split' is not one of keep, index")])) {
            try FlattenStage.make(config: .init(separator: "", arrays: "split"))
        }
        #expect(throws: StageConfigError.self) { try UnflattenStage.make(config: .init(separator: "")) }
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in }
            output: { path: out }
            stages:
              - flatten:
              - unflatten: { separator: _ }
            """)
        #expect(config.stages.map(\.kind) == ["flatten", "unflatten"])
        #expect(throws: ConfigError.self) {
            try PipelineConfig.parse(yaml: "name: t\ninput: { path: in }\noutput: { path: out }\nstages:\n  - flatten: { seperator: _ }\n")
        }
    }
}
