import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The real `sluice` binary under cron conditions: reruns, a concurrent run, SIGTERM,
/// and `kill -9` at named points (the `SLUICE_TEST_PAUSE_AT` hook), each followed by a
/// rerun that must give exactly the records of one clean run.
@Suite(.serialized) struct CronTests {
    /// A child `sluice` process run directly (no `timeout` wrapper, so that signals reach
    /// it), with its output in files and a watchdog on every wait.
    final class Child {
        let process = Process()
        let stdout: URL
        let stderr: URL

        init(_ arguments: [String], in dir: URL, environment extra: [String: String] = [:],
             currentDirectory: URL? = nil, launcher: [String] = []) throws {
            let binary = try #require(CLITests.binary, "the sluice binary is not built")
            if launcher.isEmpty {
                process.executableURL = binary
                process.arguments = arguments
            } else {
                process.executableURL = URL(fileURLWithPath: launcher[0])
                process.arguments = Array(launcher.dropFirst()) + [binary.path] + arguments
            }
            if let currentDirectory { process.currentDirectoryURL = currentDirectory }
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"
            environment.merge(extra) { $1 }
            process.environment = environment
            let id = UUID().uuidString
            stdout = dir.appendingPathComponent("stdout-\(id)")
            stderr = dir.appendingPathComponent("stderr-\(id)")
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: stdout)
            process.standardError = try FileHandle(forWritingTo: stderr)
            try process.run()
        }

        /// Waits for the process to end (killing it after `timeout` seconds) and returns its exit code.
        func wait(timeout: Double = 60) -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("sluice did not finish within \(timeout) s")
            }
            process.waitUntilExit()
            return process.terminationStatus
        }

        var errorText: String { String(decoding: TestSupport.read(stderr), as: UTF8.self) }
        var outputText: String { String(decoding: TestSupport.read(stdout), as: UTF8.self) }
    }

    /// 30 small NDJSON files; every fifth holds a record the validate stage rejects.
    static func makeInput(_ dir: URL) throws -> URL {
        let input = dir.appendingPathComponent("in")
        for f in 0..<30 {
            var text = ""
            for r in 0..<3 { text += "{\"id\":\(f * 10 + r),\"v\":\(r)}\n" }
            if f % 5 == 0 { text += "{\"id\":\(f * 10 + 9)}\n" }
            try TestSupport.write(text, to: input.appendingPathComponent(String(format: "f%02d.ndjson", f)))
        }
        return input
    }

    static func makeConfig(_ dir: URL, input: URL) throws -> URL {
        let config = dir.appendingPathComponent("cron.yaml")
        try TestSupport.write("""
            name: t
            input: { path: \(input.path), readers: 1 }
            stages:
              - validate: { required: [id, v] }
                workers: 1
                queue: 1
            output: { path: \(dir.appendingPathComponent("unused").path) }
            shutdown_grace: 20s
            """, to: config)
        return config
    }

    /// Every committed output record and error line under `out`, sorted.
    static func committed(_ out: URL) -> (records: [String], errors: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        func lines(_ prefix: String) -> [String] {
            names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".ndjson") }.flatMap { name in
                String(decoding: TestSupport.read(out.appendingPathComponent(name)), as: UTF8.self)
                    .split(separator: "\n").map(String.init)
            }.sorted()
        }
        return (lines("t-"), lines("errors-"))
    }

    /// Every error line under `out` (any pipeline name).
    static func committedErrors(_ out: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        return names.filter { $0.hasPrefix("errors-") && $0.hasSuffix(".ndjson") }.flatMap { name in
            String(decoding: TestSupport.read(out.appendingPathComponent(name)), as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    static func temporaryFiles(_ out: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.contains(".tmp-") }
    }

    static func waitFor(_ url: URL, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: url.path) && Date() < deadline { usleep(10_000) }
        return FileManager.default.fileExists(atPath: url.path)
    }

    static func doneFiles(_ out: URL) throws -> Int {
        let ledger = try Ledger(directory: out.path)
        let statement = try ledger.database.prepare("SELECT count(*) FROM files")
        statement.bind([])
        _ = try statement.step()
        return statement.int(0)
    }

    @Test func rerunsProcessOnlyNewFilesQuietlyAndDryRunLists() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cron")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let config = try Self.makeConfig(dir, input: input)
        let out = dir.appendingPathComponent("out")
        let metrics = dir.appendingPathComponent("sluice.prom")
        let first = try Child(["run", config.path, "--output", out.path, "--metrics-file", metrics.path], in: dir)
        #expect(first.wait() == 0, "\(first.errorText)")
        #expect(first.outputText.isEmpty, "not a terminal: nothing on stdout")
        let prom = String(decoding: TestSupport.read(metrics), as: UTF8.self)
        #expect(prom.contains("sluice_files{pipeline=\"t\",state=\"processed\"} 30"))
        #expect(prom.contains("sluice_last_success_timestamp_seconds{pipeline=\"t\"}"))
        let clean = Self.committed(out)
        #expect(clean.records.count == 90 && clean.errors.count == 6)

        let second = try Child(["run", config.path, "--output", out.path, "--verbose"], in: dir)
        #expect(second.wait() == 0)
        #expect(second.outputText.contains("nothing to do"))
        #expect(Self.committed(out) == clean)

        try TestSupport.write("{\"id\":1000,\"v\":1}\n", to: input.appendingPathComponent("g.ndjson"))
        let dry = try Child(["run", config.path, "--output", out.path, "--dry-run"], in: dir)
        #expect(dry.wait() == 0)
        #expect(dry.outputText == "18\tg.ndjson\n")
        let third = try Child(["run", config.path, "--output", out.path, "--summary", dir.appendingPathComponent("s.json").path], in: dir)
        #expect(third.wait() == 0)
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: dir.appendingPathComponent("s.json")))
        #expect(summary.files.processed == 1 && summary.files.skipped == 30)
        #expect(Self.committed(out).records == (clean.records + ["{\"id\":1000,\"v\":1}"]).sorted())
    }

    @Test func concurrentRunExitsFourAndSIGTERMStopsCleanly() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cron")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let config = try Self.makeConfig(dir, input: input)
        let cleanOut = dir.appendingPathComponent("clean")
        #expect(try Child(["run", config.path, "--output", cleanOut.path], in: dir).wait() == 0)
        let clean = Self.committed(cleanOut)

        let out = dir.appendingPathComponent("out")
        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path, "--output", out.path], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": "after-file", "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(Self.waitFor(marker))

        let second = try Child(["run", config.path, "--output", out.path], in: dir)
        #expect(second.wait() == 4)
        #expect(second.errorText.contains("process \(run.process.processIdentifier)"), "\(second.errorText)")

        run.process.terminate()   // SIGTERM
        #expect(run.wait() == 143, "\(run.errorText)")
        #expect(Self.temporaryFiles(out).isEmpty)
        let partial = Self.committed(out)
        #expect(!partial.records.isEmpty && partial.records.count < clean.records.count)
        #expect(Set(partial.records).isSubset(of: Set(clean.records)))
        let summaryName = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasSuffix(".summary.json") })
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: out.appendingPathComponent(summaryName)))
        #expect(summary.exitCode == 143 && summary.files.left > 0)
        #expect(try Self.doneFiles(out) == summary.files.processed, "the ledger holds exactly the committed files")

        let rerun = try Child(["run", config.path, "--output", out.path], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        #expect(Self.committed(out) == clean)
    }

    @Test(arguments: ["after-file", "before-rename", "between-renames", "after-rename", "after-ledger"])
    func killNineThenRerunGivesTheRecordsOfOneCleanRun(point: String) throws {
        let dir = TestSupport.temporaryDirectory("sluice-cron")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let config = try Self.makeConfig(dir, input: input)
        let cleanOut = dir.appendingPathComponent("clean")
        #expect(try Child(["run", config.path, "--output", cleanOut.path], in: dir).wait() == 0)
        let clean = Self.committed(cleanOut)

        let out = dir.appendingPathComponent("out")
        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path, "--output", out.path], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": point, "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(Self.waitFor(marker), "never reached \(point)")
        kill(run.process.processIdentifier, SIGKILL)
        _ = run.wait()

        let rerun = try Child(["run", config.path, "--output", out.path], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        #expect(Self.temporaryFiles(out).isEmpty)
        #expect(Self.committed(out) == clean, "after kill -9 at \(point)")
        #expect(try Self.doneFiles(out) == 30)
    }

    @Test func maxRuntimeFinishesInFlightAndLeavesTheRest() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cron")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let config = try Self.makeConfig(dir, input: input)
        let out = dir.appendingPathComponent("out")
        let summaryPath = dir.appendingPathComponent("s.json")
        // Paused after the first file until the run is told to stop: --max-runtime does that.
        let run = try Child(["run", config.path, "--output", out.path, "--max-runtime", "200ms", "--summary", summaryPath.path], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": "after-file"])
        #expect(run.wait() == 0, "\(run.errorText)")
        #expect(run.errorText.contains("--max-runtime reached"))
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: summaryPath))
        #expect(summary.files.left > 0 && summary.files.processed + summary.files.left == 30)
        #expect(try Self.doneFiles(out) == summary.files.processed)
        let rest = try Child(["run", config.path, "--output", out.path], in: dir)
        #expect(rest.wait() == 0)
        #expect(Self.committed(out).records.count == 90)
    }

    @Test func secondSignalAbortsAndLeavesNothingPartial() throws {
        let dir = TestSupport.temporaryDirectory("sluice-cron")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let config = try Self.makeConfig(dir, input: input)
        let out = dir.appendingPathComponent("out")
        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path, "--output", out.path], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": "after-file", "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(Self.waitFor(marker))
        kill(run.process.processIdentifier, SIGINT)
        kill(run.process.processIdentifier, SIGINT)
        #expect(run.wait() == 130, "\(run.errorText)")
        #expect(Self.temporaryFiles(out).isEmpty)
        let rerun = try Child(["run", config.path, "--output", out.path], in: dir)
        #expect(rerun.wait() == 0)
        let all = Self.committed(out)
        #expect(all.records.count == 90 && Set(all.records).count == 90 && all.errors.count == 6)
    }
}
