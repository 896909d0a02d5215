import Foundation
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// The ledger journal, `<output>/sluice-ledger.journal`: an append-only text copy of
/// what the ledger commits, one JSON object per line, from which
/// ``Ledger/rebuild(directory:allowEmpty:dryRun:)`` makes a new ledger when the database
/// is lost (a 0-byte file after a bad restore or a full disk, a corrupt page).
///
/// Lines, in the order they happened:
///
/// - `{"run":ID,"state":"pending","pipeline":P,"outputs":[…],"files":[…]}`: written (and
///   fsynced) before the ledger records the run as pending, so every run the ledger may
///   roll forward is in the journal; `files` holds the run's done and unchanged files
///   (`path`, `size`, `mtime`, `fingerprint`, `status`, and `outputs` when they are not
///   all of the run's).
/// - `{"run":ID,"state":"committed"}` after the ledger's step 3, and
///   `{"run":ID,"state":"rolled_back"}` when recovery rolls a run back.
/// - `{"state":"snapshot","files":[…]}`: every done entry of a ledger that had none in a
///   journal (one made before the journal existed, or whose journal was deleted).
///
/// A crash can cut only the last line short; a line that does not parse is ignored.
struct LedgerJournal {
    static let fileName = "sluice-ledger.journal"

    let path: String

    init(directory: String) {
        path = URL(fileURLWithPath: directory).appendingPathComponent(LedgerJournal.fileName).path
    }

    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Appends one line and fsyncs it.
    func append(_ object: [String: Any]) throws(LedgerError) {
        // The project's own writer, keys in byte order: JSONSerialization's sortedKeys
        // compares keys with ICU collation, and a commit of 20,000 files spent a quarter
        // of its run there.
        var writer = JSONWriter()
        guard Self.encode(object, to: &writer) else {
            throw .sqlite(path: path, message: "cannot encode a journal line")
        }
        var data = writer.bytes
        data.append(0x0A)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .sqlite(path: path, message: "cannot open the ledger journal: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            throw .sqlite(path: path, message: "cannot write the ledger journal: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a journal value (strings, integers, doubles, booleans, and arrays and objects
    /// of them); false for any other type.
    package static func encode(_ value: Any, to writer: inout JSONWriter) -> Bool {
        switch value {
        case let s as String: writer.write(s)
        case let b as Bool: writer.write(b)
        case let i as Int: writer.write(i)
        case let i as Int64: writer.write(i)
        case let d as Double: writer.write(d)
        case let strings as [String]:
            writer.beginArray()
            for s in strings { writer.write(s) }
            writer.endArray()
        case let items as [Any]:
            writer.beginArray()
            for item in items where !encode(item, to: &writer) { return false }
            writer.endArray()
        case let files as JournalFiles:
            writer.beginArray()
            for file in files.files { encode(file, to: &writer) }
            writer.endArray()
        case let object as [String: Any]:
            writer.beginObject()
            for key in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                writer.key(key)
                if !encode(object[key]!, to: &writer) { return false }
            }
            writer.endObject()
        default:
            return false
        }
        return true
    }

    /// Every line that parses, in order.
    func lines() -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: 0x0A).compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
        }
    }

    /// The file objects of a journal line, written without a dictionary per file (a commit
    /// of 20,000 small files spent a tenth of its run casting their values back).
    struct JournalFiles {
        var files: [Ledger.FileOutcome]
    }

    /// `file` as ``fileObject(_:)``'s dictionary encodes: the same keys, in byte order.
    static func encode(_ file: Ledger.FileOutcome, to writer: inout JSONWriter) {
        writer.beginObject()
        if let fingerprint = file.fingerprint {
            writer.key("fingerprint")
            writer.write(fingerprint)
        }
        writer.key("mtime")
        writer.write(file.mtime)
        if let outputs = file.outputs {
            writer.key("outputs")
            writer.beginArray()
            for output in outputs { writer.write(output) }
            writer.endArray()
        }
        writer.key("path")
        writer.write(file.path)
        writer.key("size")
        writer.write(file.size)
        writer.key("status")
        writer.write(file.status.rawValue)
        writer.endObject()
    }

    static func fileObject(_ file: Ledger.FileOutcome) -> [String: Any] {
        var object: [String: Any] = ["path": file.path, "size": file.size, "mtime": file.mtime, "status": file.status.rawValue]
        if let fingerprint = file.fingerprint { object["fingerprint"] = fingerprint }
        if let outputs = file.outputs { object["outputs"] = outputs }
        return object
    }
}

extension Ledger {
    /// What ``rebuild(directory:allowEmpty:dryRun:)`` did (or would do).
    public struct RebuildReport: Sendable {
        /// Runs whose files were restored as done.
        public var runs = 0
        /// Done entries restored.
        public var files = 0
        /// Files a journal names as done whose outputs are gone: the next run redoes them.
        public var lostFiles: [String] = []
        /// Where the old ledger was moved (nil on a dry run, or when there was none).
        public var movedAside: String?
        /// The rebuilt ledger (a temporary copy on a dry run).
        public var ledgerPath: String
    }

    /// Makes a new ledger for `directory` from its journal, after moving the old database
    /// aside as `sluice-ledger.sqlite.broken-TIME` (kept, never deleted). A run counts
    /// when the journal says it committed, or when it was pending and every output it
    /// names is in place (what recovery would roll forward); a file counts as done only
    /// while every output holding its records exists. Failure counts are not restored:
    /// failed files are retried, as they would be anyway.
    ///
    /// - Parameters:
    ///   - allowEmpty: with no journal, make an empty ledger (every file is then
    ///     processed again); without it, no journal is an error.
    ///   - dryRun: build the ledger in a temporary directory and leave `directory` alone.
    /// Call it holding the ``RunLock``.
    public static func rebuild(directory: String, allowEmpty: Bool, dryRun: Bool) throws(LedgerError) -> RebuildReport {
        let journal = LedgerJournal(directory: directory)
        let target = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        guard journal.exists || allowEmpty else {
            throw .refused(path: target, reason: "cannot be rebuilt: there is no ledger journal (\(LedgerJournal.fileName)) in \(directory) — ledgers made before sluice kept one have none",
                           advice: "`sluice ledger rebuild CONFIG --empty` makes an empty ledger instead: the next run then processes every input file again (check what with `sluice run CONFIG --dry-run`)")
        }
        let buildDirectory = dryRun ? NSTemporaryDirectory() + "sluice-ledger-rebuild-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" : directory
        if dryRun { try? FileManager.default.createDirectory(atPath: buildDirectory, withIntermediateDirectories: true) }
        let building = URL(fileURLWithPath: buildDirectory).appendingPathComponent(".\(fileName).tmp-rebuild").path
        unlink(building)
        var report = RebuildReport(ledgerPath: dryRun ? URL(fileURLWithPath: buildDirectory).appendingPathComponent(fileName).path : target)
        do {
            let database = try SQLiteDatabase(path: building)
            try createSchema(database)
            try replay(journal.lines(), into: database, outputDirectory: directory, report: &report)
        }
        if !dryRun, FileManager.default.fileExists(atPath: target) {
            let aside = target + ".broken-" + String(Int(Date().timeIntervalSince1970))
            guard rename(target, aside) == 0 else {
                throw .sqlite(path: target, message: "cannot move the old ledger aside: \(String(cString: strerror(errno)))")
            }
            report.movedAside = aside
        }
        guard rename(building, report.ledgerPath) == 0 else {
            throw .sqlite(path: report.ledgerPath, message: "cannot put the rebuilt ledger in place: \(String(cString: strerror(errno)))")
        }
        return report
    }

    private static func replay(_ lines: [[String: Any]], into database: SQLiteDatabase, outputDirectory: String,
                               report: inout RebuildReport) throws(LedgerError) {
        struct Run { var pipeline: String; var outputs: [String]; var files: [[String: Any]] }
        var pending: [(id: String, run: Run)] = []
        var runs: [String: Run] = [:]
        var lost: Set<String> = []
        let root = URL(fileURLWithPath: outputDirectory)
        func present(_ outputs: [String]) -> Bool {
            outputs.allSatisfy { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }
        }
        let upsert = try database.prepare("""
            INSERT OR REPLACE INTO files (pipeline, path, size, mtime_ns, fingerprint, run_id, outputs, processed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let touch = try database.prepare("UPDATE files SET size = ?, mtime_ns = ? WHERE pipeline = ? AND path = ?")
        let addRun = try database.prepare("INSERT OR REPLACE INTO runs VALUES (?, ?, 'committed', ?, ?)")
        let now = ISO8601DateFormatter().string(from: Date())
        func apply(_ files: [[String: Any]], runID: String?, pipeline: String?, runOutputs: [String]) throws(LedgerError) {
            for file in files {
                guard let path = file["path"] as? String, let size = file["size"] as? Int, let mtime = file["mtime"] as? Int else { continue }
                let pipeline = (file["pipeline"] as? String) ?? pipeline ?? ""
                if (file["status"] as? String) == "unchanged" {
                    try touch.run([size, mtime, pipeline, path])
                    continue
                }
                let outputs = (file["outputs"] as? [String]) ?? runOutputs
                let key = pipeline + "\u{0}" + path
                guard present(outputs) else {
                    lost.insert(key)
                    continue
                }
                lost.remove(key)
                try upsert.run([pipeline, path, size, mtime, (file["fingerprint"] as? String) ?? "",
                                (file["run"] as? String) ?? runID ?? "", outputs.joined(separator: "\n"), now])
            }
        }
        func commit(_ id: String, _ run: Run) throws(LedgerError) {
            try apply(run.files, runID: id, pipeline: run.pipeline, runOutputs: run.outputs)
            try addRun.run([id, run.pipeline, run.outputs.joined(separator: "\n"), now])
            report.runs += 1
        }
        try database.transaction { () throws(LedgerError) in
            for line in lines {
                let state = line["state"] as? String
                if state == "snapshot" {
                    try apply((line["files"] as? [[String: Any]]) ?? [], runID: nil, pipeline: nil, runOutputs: [])
                    continue
                }
                guard let id = line["run"] as? String else { continue }
                switch state {
                case "pending":
                    let run = Run(pipeline: (line["pipeline"] as? String) ?? "", outputs: (line["outputs"] as? [String]) ?? [],
                                  files: (line["files"] as? [[String: Any]]) ?? [])
                    runs[id] = run
                    pending.append((id, run))
                case "committed":
                    if let run = runs.removeValue(forKey: id) {
                        try commit(id, run)
                        pending.removeAll { $0.id == id }
                    }
                case "rolled_back":
                    runs.removeValue(forKey: id)
                    pending.removeAll { $0.id == id }
                default:
                    continue
                }
            }
            // Interrupted runs whose outputs are all in place: recovery would roll them forward.
            for (id, run) in pending where present(run.outputs) { try commit(id, run) }
        }
        report.files = try database.scalar("SELECT count(*) FROM files")
        report.lostFiles = lost.map { String($0.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).last ?? "") }.sorted()
    }
}
