import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `Ledger.rebuild` from the journal: committed runs come back, a run interrupted after its
/// renames comes back (as recovery would roll it forward), a rolled-back run does not, and
/// a file whose output is gone is left to be processed again.
@Suite struct LedgerRebuildTests {
    static func outcome(_ path: String, outputs: [String]? = nil) -> Ledger.FileOutcome {
        var file = Ledger.FileOutcome(path: path, size: 10, mtime: 1_000, fingerprint: "ab", status: .done, error: nil)
        file.outputs = outputs
        return file
    }

    @Test func rebuildRestoresWhatTheOutputsStillHold() throws {
        let dir = TestSupport.temporaryDirectory("sluice-rebuild")
        defer { TestSupport.cleanup(dir) }
        func touch(_ name: String) throws { try TestSupport.write("x\n", to: dir.appendingPathComponent(name)) }
        do {
            let ledger = try Ledger(directory: dir.path)
            #expect(try ledger.database.scalar("PRAGMA user_version") == Ledger.schemaVersion)
            // Run 1: committed, its output in place.
            try touch("t-1.ndjson")
            try ledger.prepare(runID: "1", pipeline: "t", outputs: ["t-1.ndjson"], files: [Self.outcome("a"), Self.outcome("b")])
            try ledger.finalize(runID: "1")
            // Run 2: mirror outputs; one of them deleted since.
            try touch("m/c.ndjson")
            try ledger.prepare(runID: "2", pipeline: "t", outputs: ["m/c.ndjson", "m/d.ndjson"],
                               files: [Self.outcome("c", outputs: ["m/c.ndjson"]), Self.outcome("d", outputs: ["m/d.ndjson"])])
            try ledger.finalize(runID: "2")
            // Run 3: pending, its outputs renamed (a crash before step 3).
            try touch("t-3.ndjson")
            try ledger.prepare(runID: "3", pipeline: "t", outputs: ["t-3.ndjson"], files: [Self.outcome("e")])
            // Run 4: pending, its output never renamed into place.
            try ledger.prepare(runID: "4", pipeline: "t", outputs: ["t-4.ndjson"], files: [Self.outcome("f")])
        }
        try Data().write(to: dir.appendingPathComponent(Ledger.fileName))
        #expect(throws: LedgerError.self) { try Ledger(directory: dir.path) }

        let preview = try Ledger.rebuild(directory: dir.path, allowEmpty: false, dryRun: true)
        // A dry run builds in a temporary directory that its caller removes (as the CLI does).
        defer { TestSupport.cleanup(URL(fileURLWithPath: preview.ledgerPath).deletingLastPathComponent()) }
        #expect(!preview.ledgerPath.hasPrefix(dir.path))
        #expect(preview.files == 4 && preview.lostFiles == ["d"] && preview.movedAside == nil)
        #expect(TestSupport.read(dir.appendingPathComponent(Ledger.fileName)).isEmpty)

        let report = try Ledger.rebuild(directory: dir.path, allowEmpty: false, dryRun: false)
        #expect(report.runs == 3)
        #expect(report.movedAside != nil)
        let ledger = try Ledger(directory: dir.path)
        for path in ["a", "b", "c", "e"] { #expect(try ledger.entry(pipeline: "t", path: path) != nil, "\(path)") }
        for path in ["d", "f"] { #expect(try ledger.entry(pipeline: "t", path: path) == nil, "\(path)") }
    }

    /// A run that rejects nothing writes no error report (issue 15): the summary names
    /// none, the ledger and its journal do not count it as an output, so a rebuild still
    /// finds the run's files done; a run with rejected records has its report, named.
    @Test func noEmptyErrorReportAndRebuildAgrees() throws {
        let dir = TestSupport.temporaryDirectory("sluice-rebuild")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out")
        try TestSupport.write("{\"id\":1}\n{\"id\":2}\n", to: input.appendingPathComponent("a.ndjson"))
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: t
            input: { path: in }
            stages:
              - validate: { required: [id] }
            output: { path: out }
            errors: { max_error_rate: 1 }
            """, to: config)
        let summaryPath = dir.appendingPathComponent("s.json")
        let clean = try CLITests.sluice(["run", config.path, "--summary", summaryPath.path, "--verbose"])
        #expect(clean.code == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("(1 output file; no errors)"), "\(clean.stdout)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(!names.contains { $0.hasPrefix("errors-") }, "\(names)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: summaryPath)) as? [String: Any]
        #expect(summary?["error_report"] as? String == "", "\(String(describing: summary))")
        let journal = String(decoding: TestSupport.read(out.appendingPathComponent("sluice-ledger.journal")), as: UTF8.self)
        #expect(!journal.contains("errors-"), "\(journal)")

        // A rebuild from the journal finds the file done: its outputs are all in place.
        try Data().write(to: out.appendingPathComponent(Ledger.fileName))
        let rebuild = try CLITests.sluice(["ledger", "rebuild", config.path])
        #expect(rebuild.code == 0, "\(rebuild.stdout)\(rebuild.stderr)")
        #expect(try Ledger(directory: out.path).entry(pipeline: "t", path: "a.ndjson") != nil)

        // Rejected records: the report is written, named by the summary and the ledger.
        try TestSupport.write("{\"no\":1}\n", to: input.appendingPathComponent("b.ndjson"))
        let dirty = try CLITests.sluice(["run", config.path, "--summary", summaryPath.path, "--verbose"])
        #expect(dirty.code == 0, "\(dirty.stderr)")
        let report = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: summaryPath)) as? [String: Any])?["error_report"] as? String)
        #expect(FileManager.default.fileExists(atPath: report), "\(report)")
        #expect(dirty.stdout.contains("errors: " + URL(fileURLWithPath: report).lastPathComponent), "\(dirty.stdout)")
        let after = String(decoding: TestSupport.read(out.appendingPathComponent("sluice-ledger.journal")), as: UTF8.self)
        #expect(after.contains(URL(fileURLWithPath: report).lastPathComponent), "\(after)")
    }

    @Test func noJournalNeedsEmpty() throws {
        let dir = TestSupport.temporaryDirectory("sluice-rebuild")
        defer { TestSupport.cleanup(dir) }
        #expect(throws: LedgerError.self) { try Ledger.rebuild(directory: dir.path, allowEmpty: false, dryRun: false) }
        let report = try Ledger.rebuild(directory: dir.path, allowEmpty: true, dryRun: false)
        #expect(report.files == 0)
        #expect(try Ledger(directory: dir.path).database.scalar("PRAGMA user_version") == Ledger.schemaVersion)
    }
}
