import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Real process runs of the `sluice` binary that `swift test` builds, with a timeout
/// on every child and crash backtraces off.
@Suite(.serialized) struct CLITests {
    struct Outcome {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL? {
        // Beside the test bundle first (any --scratch-path), then the default build directory.
        let products = Bundle.main.bundleURL
        let beside = products.appendingPathComponent("sluice")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let root = TestSupport.packageRoot.appendingPathComponent(".build")
        for candidate in ["debug/sluice", "release/sluice"] {
            let url = root.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs the binary from the package root; `changes` sets (or, with nil, removes)
    /// environment variables; `stdin` is piped in (nil: /dev/null).
    static func sluice(_ arguments: [String], timeout: TimeInterval = 60, environment changes: [String: String?] = [:],
                       stdin: [UInt8]? = nil) throws -> Outcome {
        let binary = try #require(binary, "the sluice binary is not built")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", String(Int(timeout)), binary.path] + arguments
        process.currentDirectoryURL = TestSupport.packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        for (key, value) in changes { environment[key] = value }
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle(forReadingAtPath: "/dev/null") : input
        try process.run()
        // Written from another thread: a large input must not deadlock against stdout.
        let done = DispatchSemaphore(value: 0)
        if let stdin {
            let writer = input.fileHandleForWriting
            let data = Data(stdin)
            Thread.detachNewThread {
                try? writer.write(contentsOf: data)
                try? writer.close()
                done.signal()
            }
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if stdin != nil { done.wait() }
        return Outcome(code: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func runWritesOutputAndExitsZero() throws {
        let out = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(out) }
        let summaryPath = out.appendingPathComponent("summary.json").path
        let result = try Self.sluice(["run", "pipelines/orders.yaml", "--output", out.path, "--summary", summaryPath, "--verbose"])
        // 0: fixtures/orders/broken/ holds a truncated file, named on stderr; the example's
        // errors.failed_files_exit: 0 keeps it from making the run exit 3.
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.contains("broken/2026-11-05.ndjson.gz: failed (io)"), "\(result.stderr)")
        #expect(result.stdout.contains("records in"))
        #expect(result.stdout.contains(out.path))
        // The default for a failed file is exit 3, which a cron wrapper alerts on.
        let strict = try Self.sluice(["run", "pipelines/orders.yaml", "--output", out.path, "--set", "errors.failed_files_exit=null",
                                      "--set", "errors.max_error_rate=null", "--full"])
        #expect(strict.code == 3, "\(strict.stderr)")
        let flag = try Self.sluice(["run", "pipelines/orders.yaml", "--output", out.path, "--failed-files-exit", "7",
                                    "--set", "errors.max_error_rate=null", "--full"])
        #expect(flag.code == 7, "\(flag.stderr)")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
        #expect(summary.exitCode == 0)
        #expect(summary.records.out > 0)
    }

    @Test func thresholdExceededExitsOne() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(dir) }
        let config = dir.appendingPathComponent("strict.yaml")
        try TestSupport.write("""
            name: strict
            input: { path: \(TestSupport.fixture("orders").path), include: ["*.ndjson.gz"] }
            stages:
              - validate: { required: [id, total, ts] }
            output: { path: \(dir.appendingPathComponent("out").path) }
            errors: { max_errors: 0 }
            """, to: config)
        let result = try Self.sluice(["run", config.path])
        #expect(result.code == 1)
        #expect(result.stderr.contains("max_errors"))
    }

    @Test func configErrorsExitTwoWithPlaces() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(dir) }
        let config = dir.appendingPathComponent("bad.yaml")
        try TestSupport.write("name: bad\ninput: { path: x, readrs: 1 }\noutput: { path: y }\n", to: config)
        for command in ["run", "validate"] {
            let result = try Self.sluice([command, config.path])
            #expect(result.code == 2)
            #expect(result.stderr.contains("bad.yaml:2:19: input.readrs: unknown key 'readrs' (did you mean 'readers'?)"), "\(result.stderr)")
        }
        let valid = try Self.sluice(["validate", "pipelines/orders.yaml"])
        #expect(valid.code == 0)
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Self.sluice(["run"]).code == 2)
        #expect(try Self.sluice(["run", "pipelines/orders.yaml", "--no-such-flag"]).code == 2)
        #expect(try Self.sluice(["--help"]).code == 0)
    }

    /// Every command names itself (`commandName:`), so that ArgumentParser does not derive
    /// the name from the type with `String(describing:)` (~1 M instructions of conformance
    /// scans per command, per run): the names must stay the ones the docs use.
    @Test func commandNamesAreTheDocumentedOnes() throws {
        let root = try Self.sluice(["--help"])
        #expect(root.code == 0)
        for name in ["run", "validate", "explain", "test", "eval", "init", "schema", "summary", "report", "ledger"] {
            #expect(root.stdout.contains("\n  \(name) "), "sluice --help lists \(name)")
        }
        #expect(try Self.sluice(["summary", "--help"]).stdout.contains("\n  merge "))
        let ledger = try Self.sluice(["ledger", "--help"]).stdout
        #expect(ledger.contains("\n  check ") && ledger.contains("\n  rebuild "))
        let typo = try Self.sluice(["rnu"])
        #expect(typo.code == 2 && typo.stderr.contains("did you mean 'sluice run'?"))
        #expect(try Self.sluice(["explain", "--help"]).stdout.contains("USAGE: sluice explain"))
    }

    @Test func missingInputDirectoryExitsOne() throws {
        let out = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(out) }
        let result = try Self.sluice(["run", "pipelines/orders.yaml", "--input", "/nonexistent/dir", "--output", out.path])
        #expect(result.code == 1)
        #expect(result.stderr.contains("/nonexistent/dir"))
    }
}

@Suite(.serialized) struct CLIConfigToolingTests {
    @Test func explainPrintsThePlanAsTextAndJSON() throws {
        let text = try CLITests.sluice(["explain", "pipelines/orders.yaml"])
        #expect(text.code == 0)
        #expect(text.stdout.contains("memory bound:"))
        let json = try CLITests.sluice(["explain", "pipelines/orders.yaml", "--format", "json", "--set", "stages.check.workers=5"])
        #expect(json.code == 0)
        let plan = try JSONDecoder().decode(PipelinePlan.self, from: Data(json.stdout.utf8))
        #expect(plan.stages.map(\.workers) == [2, 5, 2])
    }

    @Test func testSubcommandRunsDeclaredCasesAndFailsOnDifferences() throws {
        let passing = try CLITests.sluice(["test", "pipelines/"])
        #expect(passing.code == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(passing.stdout.contains("0 failed"))
        #expect(!passing.stderr.contains(" info "), "a case's run printed its info lines: \(passing.stderr)")
        let dir = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(dir) }
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: p
            input: { path: in }
            stages: [{ name: keep, filter: 'ok == true' }]
            output: { path: out }
            tests:
              - name: wrong expectation
                input: ['{"ok": true, "n": 1}']
                output: [{ ok: true, n: 2 }]
            """, to: config)
        let failing = try CLITests.sluice(["test", config.path])
        #expect(failing.code == 1)
        #expect(failing.stdout.contains("✘"))
        #expect(failing.stdout.contains("+ {\"ok\":true,\"n\":1}"))
        #expect(failing.stdout.contains("n: expected 2, got 1"))
        // A broken test file: exit 2, and no "0 passed, 0 failed" as if all were well.
        try TestSupport.write("name: p\ninput: { path: in }\noutput: { path: out }\ntests: [{ name: x, inputt: [] }]\n", to: config)
        let broken = try CLITests.sluice(["test", config.path])
        #expect(broken.code == 2)
        #expect(broken.stdout.contains("tests did not run"))
        #expect(!broken.stdout.hasPrefix("0 passed, 0 failed\n"))
    }

    @Test func validateManyConfigsReportsEach() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cli")
        defer { TestSupport.cleanup(dir) }
        let bad = dir.appendingPathComponent("bad.yaml")
        try TestSupport.write("name: b\ninput: { path: /no/such/dir }\noutput: { path: o }\n", to: bad)
        let result = try CLITests.sluice(["validate", "pipelines/orders.yaml", bad.path])
        #expect(result.code == 2)
        #expect(result.stdout.contains("pipelines/orders.yaml: ok"))
        #expect(result.stderr.contains("bad.yaml:2:16: input.path: directory '/no/such/dir' does not exist"))
    }
}
