import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct PipelineConfigTests {
    @Test func minimalConfigGetsDefaults() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in }
            output: { path: out }
            """)
        #expect(config.batchSize == 1024)
        #expect(config.input.readers == 2)
        #expect(config.input.maxRecordBytes == 16 << 20)
        #expect(config.input.format == .auto)
        #expect(config.output.compression == .none)
        #expect(config.errors.path == "errors.ndjson")
        #expect(config.stages.isEmpty)
    }

    @Test func byteSizesWithUnits() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in, max_record_bytes: 2MiB }
            output: { path: out }
            """)
        #expect(config.input.maxRecordBytes == 2 << 20)
    }

    @Test func reportsEveryProblemWithItsPlace() {
        let yaml = """
            name: t
            input:
              path: in
              readrs: 2
              format: xmll
            batch_size: -1
            output: { path: out, compression: zip }
            stages:
              - name: a
                filter: 'status =! 1'
              - name: b
                workers: many
                validate: { required: [id] }
            """
        do {
            _ = try PipelineConfig.parse(yaml: yaml, file: "p.yaml")
            Issue.record("expected a config error")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(lines.contains("p.yaml:4:3: input.readrs: unknown key 'readrs' (did you mean 'readers'?)"))
            #expect(lines.contains { $0.hasPrefix("p.yaml:5:11: input.format: 'xmll' is not one of auto, ndjson, json") })
            #expect(lines.contains("p.yaml:6:13: batch_size: -1 is out of range 1...1000000"))
            #expect(lines.contains { $0.hasPrefix("p.yaml:7:35: output.compression: 'zip' is not one of none, gzip, zstd") })
            #expect(lines.contains { $0.hasPrefix("p.yaml:10:") && $0.contains("stages[0].filter") })
            #expect(lines.contains("p.yaml:12:14: stages[1].workers: expected an integer 1–256 or 'auto' (one per core), got 'many'"))
            #expect(error.problems.count == 6, "\(lines)")
        }
    }

    @Test func missingKeysAndBadYAML() {
        do {
            _ = try PipelineConfig.parse(yaml: "name: t\n", file: "c.yaml")
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.map(\.message) == ["missing required key 'input'", "missing required key 'output'"])
        }
        do {
            _ = try PipelineConfig.parse(yaml: "name: [t\n", file: "c.yaml")
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].message.contains("invalid YAML"))
            #expect(error.problems[0].message.hasPrefix("a { } or [ ] that is not closed"))
            #expect(error.problems[0].line >= 1)
        }
    }

    @Test func stageNeedsExactlyOneKind() {
        do {
            _ = try PipelineConfig.parse(yaml: """
                name: t
                input: { path: in }
                output: { path: out }
                stages:
                  - name: a
                    workers: 1
                  - name: b
                    filter: 'true'
                    select: { a: a }
                """, file: "c.yaml")
            Issue.record("expected a config error")
        } catch {
            let messages = error.problems.map(\.message)
            #expect(messages.count == 2)
            #expect(messages[0].hasPrefix("stages[0]: a stage needs one of:"))
            #expect(messages[1] == "stages[1]: a stage has exactly one kind, found filter and select")
        }
    }
}
