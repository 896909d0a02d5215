import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Stop and cancellation paths of ``PipelineRun`` that once left a thread waiting.
@Suite struct StopPathTests {
    /// Waits (polling) until `condition` holds or `timeout` seconds pass.
    static func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// A second signal (or the end of `shutdown_grace`) stops the files in flight at
    /// once — including a batch that a `command` stage is waiting on: the hard stop used
    /// to cancel only the queues, so the stage waited out its `timeout` (then one more
    /// per record) before the run could return.
    @Test func hardStopInterruptsACommandStageWaitingOnItsWorker() throws {
        let input = TestSupport.temporaryDirectory("sluice-stop-in")
        let out = TestSupport.temporaryDirectory("sluice-stop-out")
        let marker = input.appendingPathComponent("worker-started")
        defer { [input, out].forEach(TestSupport.cleanup) }
        try TestSupport.write(#"{"id":1}"# + "\n" + #"{"id":2}"# + "\n", to: input.appendingPathComponent("a.ndjson"))
        let config = try PipelineConfig.parse(yaml: """
            name: stop
            input: { path: unused, format: ndjson, include: ["*.ndjson"] }
            stages:
              - name: slow
                command: { run: [sh, -c, 'touch \(marker.path); exec sleep 600'], timeout: 600s }
            output: { path: unused }
            """)
        let run = PipelineRun(config: config, options: RunOptions(inputPath: input.path, outputPath: out.path, runID: "stop"),
                              logger: TestSupport.logger)
        let result = Locked<RunSummary?>(nil)
        let thread = Thread { result.set(run.run()) }
        thread.start()
        // The worker exists only once the stage is exchanging a batch with it.
        #expect(Self.waitUntil(timeout: 30) { FileManager.default.fileExists(atPath: marker.path) })
        run.requestStop(.signal(SIGTERM))
        run.requestStop(.signal(SIGTERM))
        let stopped = Self.waitUntil(timeout: 20) { result.get() != nil }
        if !stopped { run.cancel(reason: "test gave up") }   // never leave the run behind
        #expect(Self.waitUntil(timeout: 60) { result.get() != nil })
        #expect(stopped, "the hard stop did not interrupt the command stage")
        let summary = try #require(result.get())
        #expect(summary.exitCode == 128 + SIGTERM, "\(summary.failure ?? "")")
        #expect(summary.files.left == 1)
        #expect(Ledger.temporaryFiles(under: out.path).isEmpty)
    }
}

/// A value shared with a helper thread.
final class Locked<Value: Sendable>: Sendable {
    private let value: LockedBox<Value>
    init(_ value: Value) { self.value = LockedBox(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ new: Value) { value.withLock { $0 = new } }
}

extension StopPathTests {
    /// A signal that arrives while `--max-runtime` is draining the run is the run's first
    /// signal: it must show in the exit code (143), as cron wrappers expect; it used to
    /// be taken for a second signal (a hard stop) and the run exited 0.
    @Test func signalDuringTheMaxRuntimeDrainExitsWithTheSignal() throws {
        let input = TestSupport.temporaryDirectory("sluice-stop-in")
        let out = TestSupport.temporaryDirectory("sluice-stop-out")
        defer { [input, out].forEach(TestSupport.cleanup) }
        try TestSupport.write(#"{"id":1}"# + "\n", to: input.appendingPathComponent("a.ndjson"))
        let config = try PipelineConfig.parse(yaml: """
            name: stop
            input: { path: unused, format: ndjson, include: ["*.ndjson"] }
            output: { path: unused }
            """)
        let run = PipelineRun(config: config, options: RunOptions(inputPath: input.path, outputPath: out.path, runID: "stop"),
                              logger: TestSupport.logger)
        run.requestStop(.maxRuntime)
        run.requestStop(.signal(SIGTERM))
        let summary = run.run()
        #expect(summary.exitCode == 128 + SIGTERM, "\(summary.failure ?? "")")
        #expect(summary.files.left == 1)
    }
}
