import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Recovery of a pending run that must be rolled back, when some of its outputs are mirror
/// outputs: named without a run id, so they replace an older run's output for the same input.
@Suite struct RecoveryTests {
    static func outcome(_ path: String, outputs: [String]) -> Ledger.FileOutcome {
        Ledger.FileOutcome(path: path, size: 1, mtime: 1, fingerprint: "00", status: .done, error: nil, outputs: outputs)
    }

    static func text(_ url: URL) -> String? {
        FileManager.default.fileExists(atPath: url.path) ? String(decoding: TestSupport.read(url), as: UTF8.self) : nil
    }

    /// Run A committed x, y and w. Run B (a `--full` rerun that also found a new file z)
    /// is pending: it renamed x.json and z.json into place, not y.json (its temporary file
    /// is still there); w.json is gone altogether, and so is B's error report, so B must be
    /// rolled back. The rollback must not delete x.json or y.json (run A's done entries
    /// name them: they hold x's and y's records, in A's or B's — equal — version), must
    /// not put B's y.json in place, must delete z.json (nothing committed names it), and
    /// must forget w (its records are in no output any more), so the next run redoes it.
    @Test func rollbackKeepsMirrorOutputsThatDoneFilesNameAndForgetsFilesWithoutOutput() throws {
        let dir = TestSupport.temporaryDirectory("sluice-recovery")
        defer { TestSupport.cleanup(dir) }
        func url(_ name: String) -> URL { dir.appendingPathComponent(name) }
        let ledger = try Ledger(directory: dir.path)

        try ledger.prepare(runID: "A", pipeline: "m", outputs: ["x.json", "sub/y.json", "w.json", "errors-A.ndjson"], files: [
            Self.outcome("x.ndjson", outputs: ["x.json", "errors-A.ndjson"]),
            Self.outcome("sub/y.ndjson", outputs: ["sub/y.json", "errors-A.ndjson"]),
            Self.outcome("w.ndjson", outputs: ["w.json", "errors-A.ndjson"]),
        ])
        for name in ["x.json", "sub/y.json", "w.json", "errors-A.ndjson"] { try TestSupport.write("A \(name)", to: url(name)) }
        try ledger.finalize(runID: "A")

        try ledger.prepare(runID: "B", pipeline: "m", outputs: ["x.json", "sub/y.json", "w.json", "z.json", "errors-B.ndjson"], files: [
            Self.outcome("x.ndjson", outputs: ["x.json", "errors-B.ndjson"]),
            Self.outcome("sub/y.ndjson", outputs: ["sub/y.json", "errors-B.ndjson"]),
            Self.outcome("w.ndjson", outputs: ["w.json", "errors-B.ndjson"]),
            Self.outcome("z.ndjson", outputs: ["z.json", "errors-B.ndjson"]),
        ])
        try TestSupport.write("B x.json", to: url("x.json"))              // renamed by B
        try TestSupport.write("B sub/y.json", to: url("sub/.y.json.tmp-B")) // not yet renamed
        try FileManager.default.removeItem(at: url("w.json"))               // lost: neither A's nor B's
        try TestSupport.write("B z.json", to: url("z.json"))              // renamed by B, a new input

        let recovery = try ledger.recover(outputDirectory: dir.path, temporaryDirectories: [])
        #expect(recovery.rolledBack == ["B"] && recovery.rolledForward.isEmpty)
        #expect(recovery.forgottenFiles == ["w.ndjson"])
        #expect(Self.text(url("x.json")) == "B x.json")
        #expect(Self.text(url("sub/y.json")) == "A sub/y.json")
        #expect(Self.text(url("z.json")) == nil)
        #expect(Self.text(url("errors-A.ndjson")) == "A errors-A.ndjson")
        #expect(Ledger.temporaryFiles(under: dir.path).isEmpty)
        #expect(try ledger.entry(pipeline: "m", path: "x.ndjson")?.runID == "A")
        #expect(try ledger.entry(pipeline: "m", path: "sub/y.ndjson")?.runID == "A")
        #expect(try ledger.entry(pipeline: "m", path: "z.ndjson") == nil)
        #expect(try ledger.entry(pipeline: "m", path: "w.ndjson") == nil)
    }

    /// The same rule through real runs: a mirror pipeline whose pending run must be rolled
    /// back; the next run then writes every record exactly once.
    @Test func nextRunAfterAMirrorRollbackHasEveryRecordOnce() throws {
        let dir = TestSupport.temporaryDirectory("sluice-recovery")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        let config = try PipelineConfig.parse(yaml: """
            name: m
            input: { path: in }
            output: { path: out, layout: mirror, format: ndjson }
            """)
        for name in ["a", "b", "c"] {
            try TestSupport.write("{\"id\":\"\(name)\"}\n", to: input.appendingPathComponent("\(name).ndjson"))
        }
        #expect(TestSupport.run(config, input: input, output: out, runID: "r1").exitCode == 0)

        // A pending rerun that replaced a.ndjson, lost b.ndjson and its error report.
        let ledger = try Ledger(directory: out.path)
        try ledger.prepare(runID: "r2", pipeline: "m", outputs: ["a.ndjson", "b.ndjson", "c.ndjson", "errors-r2.ndjson"], files: [
            Self.outcome("a.ndjson", outputs: ["a.ndjson", "errors-r2.ndjson"]),
            Self.outcome("b.ndjson", outputs: ["b.ndjson", "errors-r2.ndjson"]),
            Self.outcome("c.ndjson", outputs: ["c.ndjson", "errors-r2.ndjson"]),
        ])
        try FileManager.default.removeItem(at: out.appendingPathComponent("b.ndjson"))

        let next = TestSupport.run(config, input: input, output: out, runID: "r3")
        #expect(next.exitCode == 0)
        #expect(next.files.processed == 1 && next.files.skipped == 2)
        for name in ["a", "b", "c"] {
            #expect(Self.text(out.appendingPathComponent("\(name).ndjson")) == "{\"id\":\"\(name)\"}\n", "\(name)")
        }
        #expect(try ledger.entry(pipeline: "m", path: "b.ndjson")?.runID == "r3")
    }
}
