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
        #expect(preview.files == 4 && preview.lostFiles == ["d"] && preview.movedAside == nil)
        #expect(TestSupport.read(dir.appendingPathComponent(Ledger.fileName)).isEmpty)

        let report = try Ledger.rebuild(directory: dir.path, allowEmpty: false, dryRun: false)
        #expect(report.runs == 3)
        #expect(report.movedAside != nil)
        let ledger = try Ledger(directory: dir.path)
        for path in ["a", "b", "c", "e"] { #expect(try ledger.entry(pipeline: "t", path: path) != nil, "\(path)") }
        for path in ["d", "f"] { #expect(try ledger.entry(pipeline: "t", path: path) == nil, "\(path)") }
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
