import Foundation
import Logging
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The `command` stage with small worker scripts from `fixtures/scripts/`: the protocol,
/// poison records (hang, crash, garbage) quarantined alone, restarts, shutdown, and no
/// process left behind.
@Suite struct CommandStageTests {
    static func script(_ name: String) -> String { TestSupport.fixture("scripts/\(name)").path }

    /// A context with a fresh run control and a logger that keeps what it is told.
    static func context(_ capture: LogCapture = LogCapture()) -> StageContext {
        StageContext(stageName: "work", filePaths: ["orders.ndjson"],
                     logger: Logger(label: "test") { _ in CapturingLogHandler(capture: capture) },
                     control: RunControl())
    }

    /// Processes of the stage's workers' process groups that are still present, as
    /// `pid state` strings (from /proc), once the orphans' new parent has had up to 5 s to
    /// reap those the kill left as zombies; plus any worker that is still our own child
    /// (which must have been reaped at once). Empty when nothing was left behind.
    static func survivors(of stage: CommandStage) -> [String] {
        let spawned = Set(stage.spawnedProcessIDs)
        let us = getpid()
        var found: [(pid: Int32, state: Substring, parent: Int32)] = []
        func scan() {
            found = []
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry),
                      let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 2, let parent = Int32(fields[1]), let group = Int32(fields[2]) else { continue }
                if spawned.contains(pid) || spawned.contains(group) { found.append((pid, fields[0], parent)) }
            }
        }
        scan()
        let unreaped = found.filter { $0.parent == us && spawned.contains($0.pid) }.map { "\($0.pid) \($0.state) (our child)" }
        if !unreaped.isEmpty { return unreaped }
        for _ in 0..<50 where !found.isEmpty {
            usleep(100_000)
            scan()
        }
        return found.map { "\($0.pid) \($0.state)" }
    }

    static func commandStage(_ spec: StageSpec) throws -> CommandStage {
        try #require(spec.stage as? CommandStage)
    }

    // MARK: Config

    @Test func shortFormIsTheArgv() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in }
            stages:
              - command: [python3, enrich.py, --fast]
            output: { path: out }
            """)
        let stage = try Self.commandStage(config.stages[0])
        #expect(stage.config == CommandStage.Config(argv: ["python3", "enrich.py", "--fast"]))
        #expect(config.stages[0].name == "command-1")
    }

    @Test func longFormReadsEveryOption() throws {
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in }
            stages:
              - name: enrich
                command:
                  run: [python3, enrich.py]
                  timeout: 1500ms
                  max_restarts: 3
                  env: { LANG: C.UTF-8, MODE: fast }
                  cwd: scripts
                  stop_grace: 2s
                workers: 4
            output: { path: out }
            """)
        let stage = try Self.commandStage(config.stages[0])
        #expect(stage.config == CommandStage.Config(
            argv: ["python3", "enrich.py"], timeout: .milliseconds(1500), maxRestarts: 3,
            environment: ["LANG": "C.UTF-8", "MODE": "fast"], workingDirectory: "scripts", stopGrace: .seconds(2)))
        #expect(config.stages[0].workers == 4)
        #expect(stage.environment.contains("MODE=fast"))
    }

    func problems(_ stage: String) -> [String] {
        do {
            _ = try PipelineConfig.parse(yaml: "name: t\ninput: { path: in }\nstages:\n  - " + stage + "\noutput: { path: out }\n", file: "p.yaml")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func aStringIsNotSplitIntoArguments() {
        #expect(problems("command: python3 enrich.py") == [
            "p.yaml:4:14: stages[0].command: expected a list such as [python3, enrich.py]; a string is not split into arguments (write [sh, -c, '...'] for a shell command)",
        ])
    }

    @Test func configProblemsAreAllReported() {
        let found = problems("command: { timeout: 5 parsecs, max_restarts: -1, stop_grace: 2 days, envv: {} }")
        #expect(found.contains { $0.contains("stages[0].command.envv: unknown key 'envv' (did you mean 'env'?)") })
        #expect(found.contains { $0.contains("stages[0].command.timeout: expected a duration such as 500ms, 2s, 5m or 1h, got '5 parsecs'") })
        #expect(found.contains { $0.contains("stages[0].command.max_restarts: -1 is out of range") })
        #expect(found.contains { $0.contains("stages[0].command.stop_grace: expected a duration") })
        #expect(found.contains { $0.contains("stages[0].command: missing required key 'run'") })
        #expect(problems("command: []") == ["p.yaml:4:14: stages[0].command: needs a program to run, e.g. [python3, enrich.py]"])
        #expect(problems("command: { run: [x], env: { 'A=B': c } }").contains { $0.contains("'A=B' is not a valid environment variable name") })
        #expect(problems("command: { run: [x], timeout: 0ms }").contains { $0.contains("0ms is out of range 1ms...24h") })
    }

    @Test func durationsReadTheirUnits() {
        #expect(parseDurationValue("500ms") == .milliseconds(500))
        #expect(parseDurationValue("2s") == .seconds(2))
        #expect(parseDurationValue("1.5s") == .milliseconds(1500))
        #expect(parseDurationValue("5m") == .seconds(300))
        #expect(parseDurationValue("1h") == .seconds(3600))
        #expect(parseDurationValue(" 10 s ") == .seconds(10))
        #expect(parseDurationValue("1d") == .seconds(86_400))
        for bad in ["", "ms", "-1s", "1.2.3s", "2 days", "5", "10"] {   // a bare number is refused
            #expect(parseDurationValue(bad) == nil, "\(bad)")
        }
        #expect(formatDuration(.milliseconds(1500)) == "1.5s")
        #expect(formatDuration(.milliseconds(250)) == "250ms")
        #expect(formatDuration(.seconds(120)) == "2m")
    }

    // MARK: Protocol

    @Test func pythonWorkerEnrichesDropsAndFails() throws {
        let stage = try CommandStage.make(config: .init(argv: ["python3", Self.script("enrich.py")],
                                                        environment: ["ENRICH_LARGE_ORDER": "100"]))
        let context = Self.context()
        var batch = try ndjsonBatch("""
            {"id":1,"status":"paid","total":150.5,"customer":{"id":"c-1","country":"FR"},"items":[{"qty":2},{"qty":1}]}
            {"id":2,"status":"cancelled","total":5}
            {"id":3,"status":"paid"}
            {"id":4,"status":"paid","total":7,"customer":{"id":"c-2","country":"ÉÉ"},"items":[]}
            """)
        stage.process(&batch, context: context)
        stage.finish(context: context)
        #expect(recordTexts(batch) == [
            #"{"id":1,"customer_id":"c-1","country":"FR","total":150.5,"units":3,"size":"large"}"#,
            #"{"id":4,"customer_id":"c-2","country":"ÉÉ","total":7,"units":0,"size":"small"}"#,
        ])
        #expect(batch.filtered == 1)
        #expect(errorLines(batch) == ["3 transform: total is missing or not a number"])
        #expect(batch.records.map(\.line) == [1, 4])
        #expect(batch.isIndexed, "answers are indexed, so the next stage reads them without re-parsing")
        #expect(Self.survivors(of: stage).isEmpty)
    }

    @Test func answersDropFailAndStderrGoesToTheLog() throws {
        let stage = try CommandStage.make(config: .init(argv: ["/bin/sh", Self.script("misbehave.sh")]))
        let capture = LogCapture()
        let context = Self.context(capture)
        var batch = try ndjsonBatch("""
            {"id":1}
            {"id":2,"do":"drop"}
            {"id":3,"do":"fail"}
            {"id":4,"do":"shout"}
            """)
        stage.process(&batch, context: context)
        // A second batch reuses the same worker.
        var second = try ndjsonBatch(#"{"id":5}"#)
        stage.process(&second, context: context)
        stage.finish(context: context)
        #expect(recordTexts(batch) == [#"{"id":1}"#, #"{"id":4,"do":"shout"}"#])
        #expect(batch.filtered == 1)
        #expect(errorLines(batch) == ["3 transform: asked to fail"])
        #expect(recordTexts(second) == [#"{"id":5}"#])
        #expect(stage.spawnedProcessIDs.count == 1)
        #expect(capture.lines.contains(#"warning work shouting about {"id":4,"do":"shout"}"#))
        #expect(Self.survivors(of: stage).isEmpty)
    }

    @Test func multiLineRecordsAreSentCompact() throws {
        let stage = try CommandStage.make(config: .init(argv: ["/bin/sh", Self.script("misbehave.sh")]))
        let context = Self.context()
        let text = Array("{\n  \"id\": 1,\n  \"name\": \"a b\"\n}".utf8)
        var batch = Batch(file: 0, index: 0, bytes: text, records: [RecordSlot(start: 0, end: text.count, line: 1, offset: 0)])
        try batch.indexRecord(at: 0)
        stage.process(&batch, context: context)
        stage.finish(context: context)
        #expect(recordTexts(batch) == [#"{"id":1,"name":"a b"}"#])
    }

    @Test func environmentAndWorkingDirectoryAreApplied() throws {
        let directory = TestSupport.temporaryDirectory("sluice-cwd")
        defer { TestSupport.cleanup(directory) }
        let stage = try CommandStage.make(config: .init(
            argv: ["/bin/sh", Self.script("environment.sh")], environment: ["SLUICE_TEST_VALUE": "forty two"],
            workingDirectory: directory.path))
        let context = Self.context()
        var batch = try ndjsonBatch(#"{"id":1}"#)
        stage.process(&batch, context: context)
        stage.finish(context: context)
        let real = directory.resolvingSymlinksInPath().path
        #expect(recordTexts(batch) == [#"{"value":"forty two","cwd":"\#(real)"}"#])
    }

    // MARK: Faults

    /// One record hangs, one crashes its worker, one gets garbage back: the run finishes,
    /// exactly those three land in the error report with their kinds, every other record
    /// comes through in order, and 1 or 3 workers write the same bytes.
    @Test func poisonRecordsAreQuarantinedAlone() throws {
        let input = TestSupport.temporaryDirectory("sluice-command-in")
        defer { TestSupport.cleanup(input) }
        var lines: [String] = []
        for id in 1...24 {
            let behaviour = [5: "hang", 11: "crash", 17: "garbage", 20: "drop", 22: "fail"][id]
            lines.append(behaviour.map { #"{"id":\#(id),"do":"\#($0)"}"# } ?? #"{"id":\#(id),"n":"\#(id * 7)"}"#)
        }
        try TestSupport.write(lines.joined(separator: "\n") + "\n", to: input.appendingPathComponent("in.ndjson"))

        let offsetOf5 = lines[0..<4].reduce(0) { $0 + $1.utf8.count + 1 }
        var results: [(output: String, errors: String)] = []
        for workers in [1, 3] {
            let output = TestSupport.temporaryDirectory("sluice-command-out")
            defer { TestSupport.cleanup(output) }
            let config = try PipelineConfig.parse(yaml: """
                name: poison
                input: { path: \(input.path), format: ndjson }
                batch_size: 4
                stages:
                  - name: work
                    command: { run: [/bin/sh, \(Self.script("misbehave.sh"))], timeout: 1s, max_restarts: 20, stop_grace: 1s }
                    workers: \(workers)
                output: { path: \(output.path) }
                """)
            let summary = TestSupport.run(config, input: input, output: output)
            #expect(summary.exitCode == 0, "\(summary.failure ?? "")")
            #expect(summary.records.in == 24)
            #expect(summary.records.out == 19)
            #expect(summary.records.failed == 4)
            #expect(summary.stages[0].recordsFiltered == 1)
            let out = String(decoding: TestSupport.read(URL(fileURLWithPath: try #require(summary.outputs.first))), as: UTF8.self)
            let errors = String(decoding: TestSupport.read(URL(fileURLWithPath: summary.errorReport)), as: UTF8.self)
            #expect(out == lines.enumerated().filter { ![4, 10, 16, 19, 21].contains($0.offset) }.map { $0.element + "\n" }.joined())
            let errorLines = errors.split(separator: "\n").map(String.init)
            #expect(errorLines.count == 4)
            if errorLines.count == 4 {
                #expect(errorLines[0] == #"{"file":"in.ndjson","stage":"work","kind":"timeout","message":"no answer within 1s; the worker was killed","line":5,"offset":\#(offsetOf5),"record":{"id":5,"do":"hang"}}"#)
                #expect(errorLines[1].hasPrefix(#"{"file":"in.ndjson","stage":"work","kind":"transform","message":"the worker exited with status 3 while processing this record (stderr: crashing on purpose)","line":11,"#))
                #expect(errorLines[2].contains(#""kind":"transform","message":"the worker's answer is not valid JSON: "#))
                #expect(errorLines[2].contains(#"'this is not JSON'","line":17,"#))
                #expect(errorLines[3].contains(#""kind":"transform","message":"asked to fail","line":22,"#))
            }
            results.append((out, errors))
            let stage = try Self.commandStage(config.stages[0])
            #expect(stage.spawnedProcessIDs.count >= 2)
            #expect(Self.survivors(of: stage).isEmpty, "left behind: \(Self.survivors(of: stage))")
        }
        #expect(results[0].output == results[1].output)
        #expect(results[0].errors == results[1].errors)
    }

    @Test func tooManyRestartsFailTheRun() throws {
        let input = TestSupport.temporaryDirectory("sluice-command-in")
        let output = TestSupport.temporaryDirectory("sluice-command-out")
        defer {
            TestSupport.cleanup(input)
            TestSupport.cleanup(output)
        }
        let records = (1...12).map { #"{"id":\#($0),"do":"crash"}"# }.joined(separator: "\n")
        try TestSupport.write(records + "\n", to: input.appendingPathComponent("in.ndjson"))
        let config = try PipelineConfig.parse(yaml: """
            name: crashy
            input: { path: \(input.path), format: ndjson }
            batch_size: 4
            stages:
              - name: work
                command: { run: [/bin/sh, \(Self.script("misbehave.sh"))], timeout: 5s, max_restarts: 2 }
                workers: 2
            output: { path: \(output.path) }
            """)
        let summary = TestSupport.run(config, input: input, output: output)
        #expect(summary.exitCode == 1)
        let failure = summary.failure ?? ""
        #expect(failure.hasPrefix("stage 'work': 3 worker faults, more than max_restarts (2); the last one: the worker exited with status 3"), "\(failure)")
        #expect(summary.outputs.isEmpty)
        #expect(Self.survivors(of: try Self.commandStage(config.stages[0])).isEmpty)
    }

    @Test func aProgramThatCannotStartFailsTheRun() throws {
        let input = TestSupport.temporaryDirectory("sluice-command-in")
        let output = TestSupport.temporaryDirectory("sluice-command-out")
        defer {
            TestSupport.cleanup(input)
            TestSupport.cleanup(output)
        }
        try TestSupport.write(#"{"id":1}"# + "\n", to: input.appendingPathComponent("in.ndjson"))
        let config = try PipelineConfig.parse(yaml: """
            name: missing
            input: { path: \(input.path), format: ndjson }
            stages:
              - name: work
                command: [/nonexistent/sluice-worker, --flag]
            output: { path: \(output.path) }
            """)
        let summary = TestSupport.run(config, input: input, output: output)
        #expect(summary.exitCode == 1)
        #expect(summary.failure == "stage 'work': cannot start /nonexistent/sluice-worker: No such file or directory")
    }

    @Test func aWorkerThatIgnoresEOFAndSIGTERMIsKilled() throws {
        let stage = try CommandStage.make(config: .init(argv: ["/bin/sh", Self.script("stubborn.sh")],
                                                        stopGrace: .milliseconds(100)))
        let context = Self.context()
        var batch = try ndjsonBatch(#"{"id":1}"#)
        stage.process(&batch, context: context)
        #expect(recordTexts(batch) == [#"{"id":1}"#])
        #expect(stage.spawnedProcessIDs.count == 1)
        stage.finish(context: context)
        #expect(Self.survivors(of: stage).isEmpty, "left behind: \(Self.survivors(of: stage))")
    }

    @Test func aCancelledRunAbandonsTheBatch() throws {
        let stage = try CommandStage.make(config: .init(argv: ["/bin/sh", Self.script("misbehave.sh")], timeout: .seconds(60)))
        let context = Self.context()
        let control = context.control
        let canceller = Thread {
            usleep(300_000)
            control.cancel(reason: "stop")
        }
        canceller.start()
        var batch = try ndjsonBatch(#"{"id":1}"# + "\n" + #"{"id":2,"do":"hang"}"#)
        stage.process(&batch, context: context)
        stage.finish(context: context)
        // Record 1 may or may not have been answered before the cancellation.
        #expect(batch.records.count + batch.errors.count == 2)
        #expect(errorLines(batch).last == "2 transform: the run stopped before the worker answered")
        #expect(Self.survivors(of: stage).isEmpty)
    }
}

/// Log lines as `level stage message`.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        capture.append("\(event.level) \(event.metadata?["stage"].map { "\($0)" } ?? "-") \(event.message)")
    }
}
