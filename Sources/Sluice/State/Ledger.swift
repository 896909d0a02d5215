import Foundation
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// The ledger (**contract**): which input files were fully processed, with what
/// content, by which run, into which outputs. A SQLite database,
/// `<output>/sluice-ledger.sqlite`, one per output directory (rows keyed by pipeline
/// name and relative path), used only under the ``RunLock``.
///
/// A run commits in two steps so that a crash at any moment leaves outputs and ledger
/// in agreement (see ``recover(outputDirectory:)``):
///
/// 1. ``prepare(runID:pipeline:outputs:files:)``: one transaction records the run as
///    `pending`, with the names of its outputs and the outcome of every file it finished.
/// 2. The outputs are renamed into place (each rename is atomic).
/// 3. ``finalize(runID:)``: one transaction moves the run's files into `files` (done) and
///    `failures`, and marks the run `committed`.
///
/// A crash between 1 and 3 leaves a `pending` run. The next run's recovery rolls it
/// forward when every output it names exists, under its temporary or its final name
/// (it finishes the renames), and otherwise rolls it back: it deletes those of its
/// outputs in place that no done file names, and forgets the run — its files are
/// processed again, once. A mirror output has no run id, so a rerun replaces an older
/// run's output of the same input: the rollback keeps it (it holds that input's
/// records, in either version), and drops the done entry of a file whose output is gone
/// altogether, so that the next run processes the file again.
///
/// Tables: `runs(run_id, pipeline, state, outputs, started_at)`, `run_files(…)` (a pending
/// run's file outcomes), `files(pipeline, path, size, mtime_ns, fingerprint, run_id,
/// outputs, processed_at)` (done files), `failures(pipeline, path, size, mtime_ns, count,
/// last_run, last_error)` (failed attempts, for the retry cap).
public final class Ledger {
    /// The database's name inside the output directory.
    public static let fileName = "sluice-ledger.sqlite"

    /// What the ledger knows of a done file.
    public struct Entry: Sendable, Equatable {
        public var size: Int
        public var mtime: Int
        public var fingerprint: String
        public var runID: String
    }

    /// Failed attempts at a file, counted while its size and mtime stay the same.
    public struct FailureCount: Sendable, Equatable {
        public var size: Int
        public var mtime: Int
        public var count: Int
        public var lastError: String
    }

    /// What a run did with one file, as recorded.
    public struct FileOutcome: Sendable, Equatable {
        public enum Status: String, Sendable { case done, failed, unchanged }
        public var path: String
        public var size: Int
        public var mtime: Int
        public var fingerprint: String?
        public var status: Status
        public var error: String?
        /// The outputs holding this file's records, when they are not all of the run's
        /// (layout mirror); nil: the run's outputs.
        public var outputs: [String]? = nil

        package init(path: String, size: Int, mtime: Int, fingerprint: String? = nil, status: Status, error: String? = nil, outputs: [String]? = nil) {
            self.path = path
            self.size = size
            self.mtime = mtime
            self.fingerprint = fingerprint
            self.status = status
            self.error = error
            self.outputs = outputs
        }
    }

    /// What recovery found: pending runs rolled forward or back, temporary files removed.
    public struct Recovery: Sendable, Equatable {
        public var rolledForward: [String] = []
        public var rolledBack: [String] = []
        public var removedTemporaryFiles: [String] = []
        /// Done files whose done entry recovery dropped, because an output holding their
        /// records is gone: the next run processes them again.
        public var forgottenFiles: [String] = []
    }

    let database: SQLiteDatabase
    let journal: LedgerJournal
    private let lookupStatement: SQLiteStatement
    private let failureStatement: SQLiteStatement
    private let anyEntryStatement: SQLiteStatement
    private let anyFailureStatement: SQLiteStatement

    /// Opens (creating when missing) the ledger in `directory`.
    ///
    /// - Throws: ``LedgerError/refused(path:reason:advice:)`` when the database is empty (0
    ///   bytes, or no tables) while the output directory holds committed outputs, cannot be
    ///   read as a ledger, or has a schema version this build does not know: a new ledger
    ///   would process every file again and duplicate its records, so none is made.
    public init(directory: String) throws(LedgerError) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Ledger.fileName).path
        let existed = FileManager.default.fileExists(atPath: path)
        try Ledger.checkNotEmpty(path: path, directory: directory)
        // SQLite would create it 0644 whatever the umask; 0666 less the umask lets the
        // users of a shared (umask 002) output directory take turns.
        if !existed { close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)) }
        database = try SQLiteDatabase(path: path)
        let condition = try Ledger.examine(database, path: path, directory: directory, existed: existed)
        journal = LedgerJournal(directory: directory)
        try database.execute("""
            PRAGMA journal_mode = DELETE;
            PRAGMA synchronous = FULL;
            """)
        if condition != .current {
            try Ledger.createSchema(database)
            // Ledgers made before per-file outputs existed get the column (an error only says it is there).
            try? database.execute("ALTER TABLE run_files ADD COLUMN outputs TEXT")
        }
        lookupStatement = try database.prepare("SELECT size, mtime_ns, fingerprint, run_id FROM files WHERE pipeline = ? AND path = ?")
        failureStatement = try database.prepare("SELECT size, mtime_ns, count, last_error FROM failures WHERE pipeline = ? AND path = ?")
        anyEntryStatement = try database.prepare("SELECT EXISTS (SELECT 1 FROM files WHERE pipeline = ?)")
        anyFailureStatement = try database.prepare("SELECT EXISTS (SELECT 1 FROM failures WHERE pipeline = ?)")
        // A ledger whose done entries are in no journal (made before the journal, or the
        // journal was deleted): copy them there, or a rebuild would forget them.
        if !journal.exists, try database.scalar("SELECT count(*) FROM files") > 0 { try writeSnapshot() }
    }

    /// Creates the tables in one transaction: each statement on its own would be a
    /// transaction of its own, and with `synchronous = FULL` each costs four fdatasyncs
    /// (20 of them before a first run could start reading, 20–60 ms on this machine's disk).
    static func createSchema(_ database: SQLiteDatabase) throws(LedgerError) {
        try database.transaction { () throws(LedgerError) in try database.execute("""
            CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, state TEXT NOT NULL,
                outputs TEXT NOT NULL, started_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS run_files (run_id TEXT NOT NULL, pipeline TEXT NOT NULL, path TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, fingerprint TEXT, status TEXT NOT NULL, error TEXT,
                outputs TEXT, PRIMARY KEY (run_id, path));
            CREATE TABLE IF NOT EXISTS files (pipeline TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL, fingerprint TEXT NOT NULL, run_id TEXT NOT NULL, outputs TEXT NOT NULL,
                processed_at TEXT NOT NULL, PRIMARY KEY (pipeline, path));
            CREATE TABLE IF NOT EXISTS failures (pipeline TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL, count INTEGER NOT NULL, last_run TEXT NOT NULL, last_error TEXT NOT NULL,
                PRIMARY KEY (pipeline, path));
            PRAGMA user_version = \(schemaVersion);
            """) }
    }

    private func writeSnapshot() throws(LedgerError) {
        let select = try database.prepare("SELECT pipeline, path, size, mtime_ns, fingerprint, run_id, outputs FROM files")
        select.bind([])
        var files: [[String: Any]] = []
        while try select.step() {
            files.append(["pipeline": select.text(0) ?? "", "path": select.text(1) ?? "", "size": select.int(2), "mtime": select.int(3),
                          "fingerprint": select.text(4) ?? "", "run": select.text(5) ?? "", "status": "done",
                          "outputs": (select.text(6) ?? "").split(separator: "\n").map(String.init)])
        }
        try journal.append(["state": "snapshot", "files": files])
    }

    /// The done entry for `path`, if any.
    public func entry(pipeline: String, path: String) throws(LedgerError) -> Entry? {
        lookupStatement.reset()
        lookupStatement.set(1, pipeline)
        lookupStatement.set(2, path)
        guard try lookupStatement.step() else { return nil }
        return Entry(size: lookupStatement.int(0), mtime: lookupStatement.int(1),
                     fingerprint: lookupStatement.text(2) ?? "", runID: lookupStatement.text(3) ?? "")
    }

    /// What the ledger holds for one path: its done entry and its failed attempts.
    public struct Record: Sendable, Equatable {
        public var entry: Entry?
        public var failures: FailureCount?
    }

    /// ``entry(pipeline:path:)`` and ``failures(pipeline:path:)`` for each of `paths`, in
    /// order, read in one transaction: a plan over 20,000 small files made 40,000
    /// transactions of its lookups, each taking and dropping the database's lock.
    /// - Parameters:
    ///   - entries, failures: which of the two to look up (the other stays nil).
    public func records(pipeline: String, paths: some Sequence<String>, entries: Bool = true,
                        failures: Bool = true) throws(LedgerError) -> [Record] {
        guard entries || failures else { return paths.map { _ in Record() } }
        return try database.reading { () throws(LedgerError) -> [Record] in
            // A pipeline the ledger holds nothing of (its first run) needs no lookup per path.
            var entries = entries, failures = failures
            if entries { entries = try Self.exists(anyEntryStatement, pipeline: pipeline) }
            if failures { failures = try Self.exists(anyFailureStatement, pipeline: pipeline) }
            var records: [Record] = []
            records.reserveCapacity(paths.underestimatedCount)
            for path in paths {
                var record = Record()
                if entries { record.entry = try entry(pipeline: pipeline, path: path) }
                if failures { record.failures = try self.failures(pipeline: pipeline, path: path) }
                records.append(record)
            }
            lookupStatement.reset()
            failureStatement.reset()
            return records
        }
    }

    /// Whether `statement` (`SELECT EXISTS (… WHERE pipeline = ?)`) finds a row.
    private static func exists(_ statement: SQLiteStatement, pipeline: String) throws(LedgerError) -> Bool {
        statement.reset()
        statement.set(1, pipeline)
        defer { statement.reset() }
        return try statement.step() && statement.int(0) != 0
    }

    /// The outputs (relative to the output directory) holding the records of the done
    /// file `path`: one run's, or — for a file read on from where it stopped as it grew —
    /// those of every run that read a part of it.
    public func outputs(pipeline: String, path: String) throws(LedgerError) -> [String] {
        let select = try database.prepare("SELECT outputs FROM files WHERE pipeline = ? AND path = ?")
        select.bind([pipeline, path])
        guard try select.step() else { return [] }
        return (select.text(0) ?? "").split(separator: "\n").map(String.init)
    }

    /// The failed attempts at `path`, if any.
    public func failures(pipeline: String, path: String) throws(LedgerError) -> FailureCount? {
        failureStatement.reset()
        failureStatement.set(1, pipeline)
        failureStatement.set(2, path)
        guard try failureStatement.step() else { return nil }
        return FailureCount(size: failureStatement.int(0), mtime: failureStatement.int(1),
                            count: failureStatement.int(2), lastError: failureStatement.text(3) ?? "")
    }

    /// Step 1: records the run as pending, with its outputs (names relative to the
    /// output directory) and file outcomes.
    public func prepare(runID: String, pipeline: String, outputs: [String], files: [FileOutcome]) throws(LedgerError) {
        try journal.append(["run": runID, "state": "pending", "pipeline": pipeline, "outputs": outputs,
                            "files": LedgerJournal.JournalFiles(files: files.filter { $0.status != .failed })])
        // If the ledger does not take the run, the journal must not count it either: an
        // older mirror output of the same name would make it look complete to a rebuild.
        var recorded = false
        defer { if !recorded { try? journal.append(["run": runID, "state": "rolled_back"]) } }
        try database.transaction { () throws(LedgerError) in
            try database.prepare("INSERT OR REPLACE INTO runs VALUES (?, ?, 'pending', ?, ?)")
                .run([runID, pipeline, outputs.joined(separator: "\n"), Timestamp.now()])
            let insert = try database.prepare("""
                INSERT OR REPLACE INTO run_files (run_id, pipeline, path, size, mtime_ns, fingerprint, status, error, outputs)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            insert.set(1, runID)
            insert.set(2, pipeline)
            for file in files {
                insert.set(3, file.path)
                insert.set(4, file.size)
                insert.set(5, file.mtime)
                insert.set(6, file.fingerprint)
                insert.set(7, file.status.rawValue)
                insert.set(8, file.error)
                insert.set(9, file.outputs?.joined(separator: "\n"))
                try insert.runBound()
            }
        }
        recorded = true
    }

    /// Step 3: the run's files become done (or count a failure), and the run committed.
    public func finalize(runID: String) throws(LedgerError) {
        try database.transaction { () throws(LedgerError) in
            let now = Timestamp.now()
            try database.prepare("""
                INSERT OR REPLACE INTO files (pipeline, path, size, mtime_ns, fingerprint, run_id, outputs, processed_at)
                SELECT f.pipeline, f.path, f.size, f.mtime_ns, f.fingerprint, f.run_id, COALESCE(f.outputs, r.outputs), ?
                FROM run_files f JOIN runs r ON r.run_id = f.run_id WHERE f.run_id = ? AND f.status = 'done'
                """).run([now, runID])
            // An unchanged file (touched, same content) keeps its run and outputs.
            try database.prepare("""
                UPDATE files SET size = (SELECT size FROM run_files f WHERE f.run_id = ?1 AND f.pipeline = files.pipeline AND f.path = files.path),
                                 mtime_ns = (SELECT mtime_ns FROM run_files f WHERE f.run_id = ?1 AND f.pipeline = files.pipeline AND f.path = files.path)
                WHERE EXISTS (SELECT 1 FROM run_files f WHERE f.run_id = ?1 AND f.pipeline = files.pipeline AND f.path = files.path AND f.status = 'unchanged')
                """).run([runID])
            try database.prepare("""
                DELETE FROM failures WHERE EXISTS (SELECT 1 FROM run_files f WHERE f.run_id = ? AND f.status != 'failed'
                    AND f.pipeline = failures.pipeline AND f.path = failures.path)
                """).run([runID])
            // A failure counts on from the last one only while the file is the same.
            try database.prepare("""
                INSERT OR REPLACE INTO failures (pipeline, path, size, mtime_ns, count, last_run, last_error)
                SELECT f.pipeline, f.path, f.size, f.mtime_ns,
                       1 + COALESCE((SELECT x.count FROM failures x WHERE x.pipeline = f.pipeline AND x.path = f.path
                                     AND x.size = f.size AND x.mtime_ns = f.mtime_ns), 0),
                       f.run_id, COALESCE(f.error, '')
                FROM run_files f WHERE f.run_id = ? AND f.status = 'failed'
                """).run([runID])
            try database.prepare("DELETE FROM run_files WHERE run_id = ?").run([runID])
            try database.prepare("UPDATE runs SET state = 'committed' WHERE run_id = ?").run([runID])
        }
        // After the commit: a crash before this line leaves the run pending in the journal,
        // and a rebuild then counts it only if all its outputs are in place — as recovery does.
        try journal.append(["run": runID, "state": "committed"])
    }

    /// A run withheld by its error threshold commits nothing — no run, no done file — but
    /// its files that failed as a whole still count toward `input.max_retries`, as in a
    /// committed run: a corrupt file that alone pushes every run past the threshold is
    /// skipped as poison after its retries instead of failing every run forever. One
    /// transaction, no journal line (the journal holds done files only).
    public func recordFailures(runID: String, pipeline: String, files: [FileOutcome]) throws(LedgerError) {
        let failed = files.filter { $0.status == .failed }
        guard !failed.isEmpty else { return }
        try database.transaction { () throws(LedgerError) in
            let upsert = try database.prepare("""
                INSERT OR REPLACE INTO failures (pipeline, path, size, mtime_ns, count, last_run, last_error)
                VALUES (?1, ?2, ?3, ?4, 1 + COALESCE((SELECT x.count FROM failures x WHERE x.pipeline = ?1 AND x.path = ?2
                                                      AND x.size = ?3 AND x.mtime_ns = ?4), 0), ?5, ?6)
                """)
            for file in failed { try upsert.run([pipeline, file.path, file.size, file.mtime, runID, file.error ?? ""]) }
        }
    }

    /// Brings the output directory and the ledger back into agreement after a crash:
    /// pending runs are rolled forward or back (see the type's discussion), and every
    /// leftover temporary file (`.NAME.tmp-RUNID`) in `directories` is removed. Call it
    /// holding the lock, before a run starts.
    public func recover(outputDirectory: String, temporaryDirectories: [String]) throws(LedgerError) -> Recovery {
        var recovery = Recovery()
        var pending: [(String, [String])] = []
        let select = try database.prepare("SELECT run_id, outputs FROM runs WHERE state = 'pending'")
        select.bind([])
        while try select.step() {
            let outputs = (select.text(1) ?? "").split(separator: "\n").map(String.init)
            pending.append((select.text(0) ?? "", outputs))
        }
        let root = URL(fileURLWithPath: outputDirectory)
        for (runID, outputs) in pending {
            let paths = outputs.map { root.appendingPathComponent($0).path }
            let temporaries = paths.map { Self.temporaryPath(of: $0, runID: runID) }
            // Every output was complete and on disk before the run was recorded pending,
            // so a rename the crash cut off can be finished now — but only if every output
            // is there, under one name or the other: a rollback must not have replaced a
            // mirror output (which has no run id) that an older run's done files name.
            var complete = zip(paths, temporaries).allSatisfy { Self.exists($1) || Self.exists($0) }
            if complete {
                for (path, temporary) in zip(paths, temporaries) where Self.exists(temporary) && rename(temporary, path) != 0 {
                    complete = false
                }
            }
            if complete {
                try finalize(runID: runID)
                recovery.rolledForward.append(runID)
            } else {
                recovery.forgottenFiles += try rollBack(runID: runID, outputs: outputs, root: root)
                recovery.rolledBack.append(runID)
            }
        }
        for directory in Set([outputDirectory] + temporaryDirectories) {
            for path in Self.temporaryFiles(under: directory) where unlink(path) == 0 {
                recovery.removedTemporaryFiles.append(path)
            }
        }
        return recovery
    }

    /// Rolls back a pending run whose outputs were not all put in place, and returns the
    /// done files it forgot.
    ///
    /// An output in place is deleted only when no done file names it: outputs named with
    /// the run id are the run's alone, but a mirror output (no run id) may be an older
    /// run's, or the pending run's replacement of it — the same input's records either
    /// way, which the older run's done entry relies on. A done entry that names an output
    /// of the run that is gone (deleted by hand, say) no longer has its records anywhere:
    /// it is dropped, so the next run processes its file again.
    private func rollBack(runID: String, outputs: [String], root: URL) throws(LedgerError) -> [String] {
        let named = try doneFilesByOutput(among: Set(outputs))
        var forgotten: [(pipeline: String, path: String)] = []
        for output in outputs {
            let path = root.appendingPathComponent(output).path
            if let files = named[output] {
                if !Self.exists(path) { forgotten += files }
            } else if Self.exists(path) {
                unlink(path)
            }
        }
        try database.transaction { () throws(LedgerError) in
            let delete = try database.prepare("DELETE FROM files WHERE pipeline = ? AND path = ?")
            for file in forgotten { try delete.run([file.pipeline, file.path]) }
            try database.prepare("DELETE FROM run_files WHERE run_id = ?").run([runID])
            try database.prepare("DELETE FROM runs WHERE run_id = ?").run([runID])
        }
        try journal.append(["run": runID, "state": "rolled_back"])
        return forgotten.map(\.path).sorted()
    }

    /// The done files (pipeline, path) whose records are in each of `outputs`, by output.
    /// One pass over the done entries: it runs only when a run is rolled back.
    private func doneFilesByOutput(among outputs: Set<String>) throws(LedgerError) -> [String: [(pipeline: String, path: String)]] {
        var named: [String: [(pipeline: String, path: String)]] = [:]
        let select = try database.prepare("SELECT pipeline, path, outputs FROM files")
        select.bind([])
        while try select.step() {
            for output in (select.text(2) ?? "").split(separator: "\n") where outputs.contains(String(output)) {
                named[String(output), default: []].append((select.text(0) ?? "", select.text(1) ?? ""))
            }
        }
        return named
    }

    /// `.NAME.tmp-RUNID` beside `path`: where ``OutputFile`` writes it.
    static func temporaryPath(of path: String, runID: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(runID)").path
    }

    private static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}

extension Ledger {
    /// Temporary output files (`.NAME.tmp-RUNID`) anywhere under `directory` (outputs of
    /// the mirror and partitioned layouts live in subdirectories), except inside the
    /// `shard-I-of-N/` directories of shard runs, which have their own lock and ledger.
    static func temporaryFiles(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory {
                if name.hasPrefix("shard-") && name.contains("-of-") { walker.skipDescendants() }
                continue
            }
            if name.hasPrefix(".") && name.contains(".tmp-") {
                found.append(URL(fileURLWithPath: directory).appendingPathComponent(relative).path)
            }
        }
        return found.sorted()
    }
}

/// Failures of the ledger: fatal for the run (exit 1), before any output is committed.
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    case sqlite(path: String, message: String)
    /// The ledger cannot be used and must not be replaced silently (exit code 5): `reason`
    /// says what is wrong with it, `advice` what to do.
    case refused(path: String, reason: String, advice: String)

    /// True for ``refused(path:reason:advice:)``.
    public var isRefusal: Bool {
        if case .refused = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .sqlite(let path, let message): return "ledger \(path): \(message)"
        case .refused(let path, let reason, let advice): return "refusing to use the ledger \(path): it \(reason). \(advice)"
        }
    }
}

extension Ledger {
    /// What another output directory's ledger (another shard's, or the unsharded run's)
    /// says is done, read once at the start of a run so that changing the number of shards
    /// never processes a done file again (see ``IncrementalPlan``).
    package struct PeerView: Sendable {
        /// The directory holding the ledger.
        var directory: String
        /// Done files of the pipeline, by relative path.
        var done: [String: Entry] = [:]
        /// Files finished by a run of that directory whose commit is unfinished (pending):
        /// its next run rolls them forward or back, which this run cannot know.
        var pending: [String: String] = [:]
    }

    /// Reads the done and pending files of `pipeline` from the ledger in `directory`
    /// without writing to it and without the directory's lock: one short read
    /// transaction per query, so a shard committing there meanwhile at most waits for it
    /// (the busy timeout), and it for the shard. An empty or schema-less ledger (a run of
    /// that directory is just creating it) has nothing done. A hot journal (a crash in
    /// the middle of a transaction there) cannot be rolled back by a read-only connection:
    /// then a read-write one (never creating the file) lets SQLite roll it back, as any
    /// opener of that ledger would (the file exists, so nothing is created).
    package static func peerView(directory: String, pipeline: String) throws(LedgerError) -> PeerView {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        var view = PeerView(directory: directory)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else { return view }
        func read(_ database: SQLiteDatabase) throws(LedgerError) -> PeerView {
            var view = PeerView(directory: directory)
            let tables = Set(try database.texts("SELECT name FROM sqlite_master WHERE type = 'table'"))
            guard tables.contains("files") else { return view }
            let select = try database.prepare("SELECT path, size, mtime_ns, fingerprint, run_id FROM files WHERE pipeline = ?")
            select.bind([pipeline])
            while try select.step() {
                view.done[select.text(0) ?? ""] = Entry(size: select.int(1), mtime: select.int(2),
                                                         fingerprint: select.text(3) ?? "", runID: select.text(4) ?? "")
            }
            if tables.contains("run_files") && tables.contains("runs") {
                let pending = try database.prepare("""
                    SELECT f.path, f.run_id FROM run_files f JOIN runs r ON r.run_id = f.run_id
                    WHERE r.state = 'pending' AND f.pipeline = ? AND f.status = 'done'
                    """)
                pending.bind([pipeline])
                while try pending.step() { view.pending[pending.text(0) ?? ""] = pending.text(1) ?? "" }
            }
            return view
        }
        do {
            view = try read(SQLiteDatabase(path: path, readOnly: true))
        } catch {
            do {
                view = try read(SQLiteDatabase(path: path))
            } catch {
                throw .refused(path: path, reason: "cannot be read (\(error)); this run needs it to know which files another shard or an unsharded run already processed",
                               advice: "Check that the file is readable, or run `sluice ledger check` on that directory, then run again.")
            }
        }
        return view
    }
}
