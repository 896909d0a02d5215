import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct ConfigToolingTests {
    static let base = """
        name: t
        input: { path: "${IN:-data/in}", readers: "${READERS:-2}" }
        defaults: { workers: 3, queue: 5 }
        stages:
          - name: keep
            filter: 'status == "${STATUS}"'
          - name: shape
            workers: auto
            select: { id: id }
        output: { path: out }
        """

    @Test func environmentInterpolationWithDefaults() throws {
        let config = try PipelineConfig.parse(yaml: Self.base, environment: ["STATUS": "paid", "READERS": "4"])
        #expect(config.input.path == "data/in")
        #expect(config.input.readers == 4)
        let other = try PipelineConfig.parse(yaml: Self.base, environment: ["STATUS": "x", "IN": "/srv/in"])
        #expect(other.input.path == "/srv/in")
        #expect(other.input.readers == 2)
    }

    @Test func unsetVariableIsAProblemAtItsValue() {
        do {
            _ = try PipelineConfig.parse(yaml: Self.base, file: "c.yaml", environment: [:])
            Issue.record("expected a config error")
        } catch {
            #expect(error.problems.map(\.description) == [
                "c.yaml:6:13: environment variable STATUS is not set (write ${STATUS:-default} to give a default)",
            ])
        }
    }

    @Test func dollarDollarIsALiteralDollar() {
        var problems: [String] = []
        #expect(ConfigPreprocessing.expand("a$$b ${X} $y", environment: ["X": "1"], problems: &problems) == "a$b 1 $y")
        #expect(problems.isEmpty)
        _ = ConfigPreprocessing.expand("${X", environment: [:], problems: &problems)
        #expect(problems == ["unclosed '${' in '${X'"])
    }

    @Test func defaultsAndAutoWorkers() throws {
        let config = try PipelineConfig.parse(yaml: Self.base, environment: ["STATUS": "paid"])
        #expect(config.stages[0].workers == 3)
        #expect(config.stages[0].queue == 5)
        #expect(config.stages[1].workers == ProcessInfo.processInfo.activeProcessorCount)
    }

    @Test func overridesByKeyPathAndStageName() throws {
        let config = try PipelineConfig.parse(yaml: Self.base, overrides: [
            "stages.keep.workers=7", "stages.1.queue=2", "input.include=[\"**/*.ndjson\", \"*.json\"]", "errors.max_errors=10",
        ], environment: ["STATUS": "paid"])
        #expect(config.stages[0].workers == 7)
        #expect(config.stages[1].queue == 2)
        #expect(config.input.include == ["**/*.ndjson", "*.json"])
        #expect(config.errors.maxErrors == 10)
    }

    @Test func overrideProblemsPointAtTheOverriddenValue() {
        do {
            _ = try PipelineConfig.parse(yaml: Self.base, file: "c.yaml",
                                         overrides: ["stages.keep.queue=lots", "stages.nope.workers=1", "bad"],
                                         environment: ["STATUS": "paid"])
            Issue.record("expected a config error")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(lines.contains("c.yaml: --set bad: expected KEY.PATH=VALUE"))
            #expect(lines.contains { $0.hasPrefix("c.yaml:5:3: --set stages.nope.workers=1: no list item named 'nope'") })
            // A bad value given with --set names the argument, not the place it replaced.
            #expect(lines.contains("--set stages.keep.queue=lots: stages[0].queue: expected an integer, got scalar 'lots'"))
        }
    }

    @Test func explainPlanForTheBundledPipeline() throws {
        let config = try PipelineConfig.load(path: TestSupport.packageRoot.appendingPathComponent("pipelines/orders.yaml").path)
        // On 2 cores, as CI and the bench machine have: CPU stages share 2 threads.
        let plan = PipelinePlan(config: config, stages: config.effectiveStages, cores: 2)
        #expect(plan.text == """
            pipeline orders
              read      2 reader threads, batches of 1024 records (≤ 20.0 MiB each)
              stage 1   drop-cancelled (filter): 2 workers, queue 8 batches
              stage 2   check (validate): 2 workers, queue 8 batches
              stage 3   shape (select): 2 workers, queue 8 batches
              sink      1 thread, queue 8 batches, commits in input order
            threads: 3 (2 readers that also run the stages, 0 more stage threads on 2 cores, 1 sink)
            batches in flight: at most 40, and up to 64.0 MiB of later files' finished output (≤ 1024 batches) waiting for the sink's input order
            decoders: up to 2.0 GiB per reader for zstd/xz input (input.max_window); ~1 MiB for gzip
            memory bound: 7.6 GiB (40 batches × 20.0 MiB × 3.5 + 864 MiB waiting output + decoders + buffers); with 1 KiB records and gzip input: 238 MiB

            """)
        #expect(plan.batchesInFlight == 40)
        #expect(plan.reorderBatches == 1024)
        #expect(plan.reorderBytes == 64 << 20)
        #expect(plan.reorderBoundBytes == (64 << 20) + 40 * plan.batchBytesBound)
        // Room for later files' finished batches only when a reader can be ahead of the head file.
        var one = config
        one.input.readers = 1
        let single = PipelinePlan(config: one, stages: one.effectiveStages, cores: 2)
        #expect(single.reorderBatches == 0 && single.reorderBytes == 0 && single.reorderBoundBytes == 0)
        #expect(!single.text.contains("finished output"))
        var three = config
        three.input.readers = 3
        #expect(PipelinePlan(config: three, stages: three.effectiveStages, cores: 2).reorderBytes == 128 << 20)
        // The readers run their batches through the stages: no more CPU-bound threads than
        // cores (2 readers, 2 cores: no stage threads besides them; 1 reader: one more).
        #expect(plan.threads == 3 && plan.stageThreads == 2 && plan.ownStageThreads == 0 && plan.readersRunStages)
        #expect(PipelinePlan(config: config, stages: config.effectiveStages, cores: 1).threads == 3)
        #expect(single.threads == 3 && single.ownStageThreads == 1)
        #expect(single.text.contains("threads: 3 (1 reader that also runs the stages, 1 more stage thread on 2 cores, 1 sink)"))
        // A Parquet output's row groups are in the bound.
        var parquet = config
        parquet.output.spec.format = .parquet
        let withParquet = PipelinePlan(config: parquet, stages: parquet.effectiveStages, cores: 2)
        #expect(withParquet.outputBufferBytes > 0)
        #expect(withParquet.memoryBoundBytes == plan.memoryBoundBytes + withParquet.outputBufferBytes)
    }

    @Test func referencesAreChecked() throws {
        let config = try PipelineConfig.parse(yaml: "name: t\ninput: { path: /no/such/dir }\noutput: { path: out }\n", file: "c.yaml")
        #expect(config.checkReferences().map(\.description) == ["c.yaml:2:16: input.path: directory '/no/such/dir' does not exist"])
    }
}

@Suite struct PipelineTesterTests {
    static let yaml = """
        name: t
        input: { path: unused, format: ndjson }
        stages:
          - name: keep
            filter: 'status != "cancelled"'
          - name: check
            validate: { required: [total] }
        output: { path: unused, compression: gzip }
        tests:
          - name: passes
            input: [{ id: 1, status: paid, total: 2 }, '{"id": 2, "status": "cancelled"}', '{"id": 3}']
            output: [{ id: 1, status: paid, total: 2.0 }]
            errors: [{ stage: check, kind: validation, line: 3 }]
          - name: fails
            input: [{ id: 1, status: paid, total: 2 }]
            output: [{ id: 9 }]
            errors: [{ kind: parse }]
        """

    @Test func reportsPassesAndDifferences() throws {
        let config = try PipelineConfig.parse(yaml: Self.yaml)
        let results = PipelineTester(config: config, logger: TestSupport.logger).run(config.tests)
        #expect(results.map(\.passed) == [true, false])
        #expect(results[1].differences == [
            "output record 1:\n    - {\"id\":9}\n    + {\"id\":1,\"status\":\"paid\",\"total\":2}\n"
                + "      id: expected 9, got 1\n      status: not expected, got \"paid\"\n      total: not expected, got 2",
            "expected 1 error lines, got 0",
        ])
    }

    @Test func fieldByFieldDifferences() {
        let want: JSONValue = .object([JSONMember("id", .int(1)), JSONMember("customer", .object([JSONMember("id", .string("c1")), JSONMember("tier", .string("gold"))])),
                                       JSONMember("tags", .array([.string("a"), .string("b")]))])
        let got: JSONValue = .object([JSONMember("id", .int(1)), JSONMember("customer", .object([JSONMember("id", .string("c2"))])),
                                      JSONMember("tags", .array([.string("a"), .string("c")])), JSONMember("extra", .null)])
        #expect(PipelineTester.fieldDifferences(want, got, path: "") == [
            "customer.id: expected \"c1\", got \"c2\"",
            "customer.tier: expected \"gold\", missing",
            "tags[1]: expected \"b\", got \"c\"",
            "extra: not expected, got null",
        ])
        let reordered: JSONValue = .object([JSONMember("b", .int(2)), JSONMember("a", .int(1))])
        let ordered: JSONValue = .object([JSONMember("a", .int(1)), JSONMember("b", .int(2))])
        #expect(PipelineTester.fieldDifferences(ordered, reordered, path: "") == [
            "the record: the same fields in another order: expected [\"a\", \"b\"], got [\"b\", \"a\"]"])
    }

    @Test func errorLineMessagesAreQuotedPlainly() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: unused, format: ndjson }
            stages:
              - validate: { required: [level] }
            output: { path: unused }
            tests:
              - name: message
                input: [{ id: 1 }]
                errors: [{ message: "missing field 'level'" }]
            """)
        let results = PipelineTester(config: config, logger: TestSupport.logger).run(config.tests)
        #expect(results.first?.differences == [
            "error line 1: expected message \"missing field 'level'\", got \"missing required field 'level'\""])
    }
}
