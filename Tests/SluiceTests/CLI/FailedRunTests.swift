import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The real `sluice` binary past its error threshold: a failed run commits nothing, keeps
/// its error report and summary under names no good run has, says how to rerun, and the
/// next run after the fix processes every file.
@Suite(.serialized) struct FailedRunTests {
    /// 20 NDJSON files of 10 records; the `validate` rule of `config(rule:)` decides how many fail.
    static func makeInput(_ dir: URL) throws -> URL {
        let input = dir.appendingPathComponent("in")
        for f in 0..<20 {
            var text = ""
            for r in 0..<10 { text += "{\"id\":\(f * 100 + r),\"v\":\(r)}\n" }
            try TestSupport.write(text, to: input.appendingPathComponent(String(format: "f%02d.ndjson", f)))
        }
        return input
    }

    /// A config whose `validate` stage requires `field` (a typo, `vv`, fails every record).
    static func writeConfig(_ dir: URL, input: URL, field: String, extra: String = "") throws -> String {
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: p
            input: { path: \(input.path), readers: 2 }
            stages:
              - validate: { required: [id, \(field)] }
            output: { path: \(dir.appendingPathComponent("out").path) }
            errors: { max_error_rate: 0.05\(extra) }
            """, to: config)
        return config.path
    }

    static func names(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    static func records(in out: URL) -> [String] {
        names(out).filter { $0.hasPrefix("p-") && $0.hasSuffix(".ndjson") }.flatMap { name in
            String(decoding: TestSupport.read(out.appendingPathComponent(name)), as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    @Test func aRunPastItsThresholdCommitsNothingAndTheNextRunAfterTheFixDoesEveryFile() throws {
        let dir = TestSupport.temporaryDirectory("sluice-failed")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let out = dir.appendingPathComponent("out")
        let bad = try Self.writeConfig(dir, input: input, field: "vv")
        let failed = try CLITests.sluice(["run", bad, "--verbose"])
        #expect(failed.code == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("exceeds errors.max_error_rate"), "\(failed.stderr)")
        #expect(failed.stderr.contains("nothing was committed"), "\(failed.stderr)")
        #expect(failed.stderr.contains("run again"), "\(failed.stderr)")
        let after = Self.names(out)
        let reportName = try #require(after.first { $0.hasPrefix("errors-") && $0.hasSuffix(".failed.ndjson") }, "\(after)")
        #expect(failed.stderr.contains(reportName), "\(failed.stderr)")
        let summaryName = try #require(after.first { $0.hasPrefix("p-") && $0.hasSuffix(".failed-summary.json") }, "\(after)")
        #expect(Self.records(in: out).isEmpty, "\(after)")
        #expect(!after.contains { $0.hasSuffix(".summary.json") }, "\(after)")
        #expect(!after.contains { $0.hasPrefix("errors-") && !$0.hasSuffix(".failed.ndjson") }, "\(after)")
        #expect(!after.contains { $0.contains(".tmp-") }, "\(after)")
        let report = String(decoding: TestSupport.read(out.appendingPathComponent(reportName)), as: UTF8.self)
        #expect(report.split(separator: "\n").count == 200, "every failed record is in the kept report")
        let summary = String(decoding: TestSupport.read(out.appendingPathComponent(summaryName)), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        #expect(object["exit_code"] as? Int == 1 && (object["outputs"] as? [Any])?.isEmpty == true, "\(summary)")
        #expect((object["files"] as? [String: Any])?["left"] as? Int == 20, "\(summary)")

        // The same broken config again: still nothing done, still exit 1 (no file was marked done).
        #expect(try CLITests.sluice(["run", bad]).code == 1)

        let good = try Self.writeConfig(dir, input: input, field: "v")
        let fixed = try CLITests.sluice(["run", good, "--verbose"])
        #expect(fixed.code == 0, "\(fixed.stderr)")
        #expect(fixed.stdout.contains("200 records in"), "\(fixed.stdout)")
        #expect(Self.records(in: out).count == 200)
        let rerun = try CLITests.sluice(["run", good, "--verbose"])
        #expect(rerun.code == 0 && rerun.stdout.contains("nothing to do (20 of 20 files skipped)"), "\(rerun.stdout)\(rerun.stderr)")
    }

    @Test func onThresholdCommitCommitsTheRunAndStillExitsOne() throws {
        let dir = TestSupport.temporaryDirectory("sluice-failed")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        let out = dir.appendingPathComponent("out")
        let config = try Self.writeConfig(dir, input: input, field: "vv", extra: ", on_threshold: commit")
        let result = try CLITests.sluice(["run", config])
        #expect(result.code == 1, "\(result.stderr)")
        #expect(!result.stderr.contains("nothing was committed"), "\(result.stderr)")
        let names = Self.names(out)
        #expect(names.contains { $0.hasPrefix("errors-") && $0.hasSuffix(".ndjson") && !$0.contains(".failed") }, "\(names)")
        #expect(names.contains { $0.hasSuffix(".summary.json") } && !names.contains { $0.contains("failed") }, "\(names)")
        let again = try CLITests.sluice(["run", config, "--verbose"])
        #expect(again.code == 0 && again.stdout.contains("nothing to do"), "\(again.stdout)\(again.stderr)")
    }

    @Test func aFileThatFailsAsAWholeInAWithheldRunStillCountsTowardItsRetries() throws {
        let dir = TestSupport.temporaryDirectory("sluice-failed")
        defer { TestSupport.cleanup(dir) }
        let input = try Self.makeInput(dir)
        // A corrupt .gz among the good files: it fails as a whole, and its one error line
        // with 19 good files is past max_errors 0 — until the retry cap skips it.
        try Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]).write(to: input.appendingPathComponent("zz.ndjson.gz"))
        let config = try Self.writeConfig(dir, input: input, field: "v", extra: ", max_errors: 0")
        let out = dir.appendingPathComponent("out")
        // input.max_retries defaults to 2: three failed attempts, then the file is skipped.
        for _ in 1...3 {
            let run = try CLITests.sluice(["run", config])
            #expect(run.code == 1, "\(run.stderr)")
            #expect(Self.records(in: out).isEmpty)
        }
        let last = try CLITests.sluice(["run", config, "--verbose"])
        #expect(last.code == 0, "\(last.stdout)\(last.stderr)")
        #expect(last.stderr.contains("zz.ndjson.gz") && last.stderr.contains("max_retries"), "\(last.stderr)")
        #expect(Self.records(in: out).count == 200)
    }

    /// With checkpoints the threshold is judged as the run goes: checkpoints within it
    /// commit, and once past it the rest of the run is withheld.
    @Test func withCheckpointsThePartPastTheThresholdIsWithheldAndEarlierCheckpointsStay() throws {
        let dir = TestSupport.temporaryDirectory("sluice-failed")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        for f in 0..<20 {
            var text = ""
            // The last ten files lack `v`: every record of theirs fails `required: [id, v]`.
            for r in 0..<10 { text += f < 10 ? "{\"id\":\(f * 100 + r),\"v\":\(r)}\n" : "{\"id\":\(f * 100 + r)}\n" }
            try TestSupport.write(text, to: input.appendingPathComponent(String(format: "f%02d.ndjson", f)))
        }
        let out = dir.appendingPathComponent("out")
        let strict = try Self.writeConfig(dir, input: input, field: "v", extra: " }\ncommit_every: { files: 5")
        let failed = try CLITests.sluice(["run", strict])
        #expect(failed.code == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("10 files committed at checkpoints stay done"), "\(failed.stderr)")
        #expect(failed.stderr.contains("the 10 files are processed again"), "\(failed.stderr)")
        #expect(Self.records(in: out).count == 100)
        #expect(Self.names(out).contains { $0.hasSuffix(".c0003.failed.ndjson") }, "\(Self.names(out))")
        let loose = try Self.writeConfig(dir, input: input, field: "id", extra: " }\ncommit_every: { files: 5")
        let fixed = try CLITests.sluice(["run", loose, "--verbose"])
        #expect(fixed.code == 0 && fixed.stdout.contains("100 records in"), "\(fixed.stdout)\(fixed.stderr)")
        #expect(Set(Self.records(in: out)).count == 200 && Self.records(in: out).count == 200)
    }
}
