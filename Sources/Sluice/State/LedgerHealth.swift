import Foundation

extension Ledger {
    /// The ledger schema this build reads and writes, stored as `PRAGMA user_version`.
    /// 0 is a ledger made before versions were stored (same tables): it is upgraded.
    public static let schemaVersion = 1

    /// What opening an existing database found.
    enum Condition: Equatable {
        /// No ledger tables yet (a new file): they are created.
        case fresh
        /// The tables of version 0, from before versions were stored: upgraded in place.
        case legacy
        /// `schemaVersion`.
        case current
    }

    /// Checks the ledger of `directory` without changing anything, as a run would before
    /// using it: fine when missing or usable, ``LedgerError/refused(path:reason:advice:)``
    /// otherwise.
    public static func check(directory: String) throws(LedgerError) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return }
        try checkNotEmpty(path: path, directory: directory)
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path, readOnly: true)
        } catch {
            throw refusal(path: path, reason: "cannot be opened (\(error))")
        }
        _ = try examine(database, path: path, directory: directory, existed: true)
    }

    /// A 0-byte ledger beside committed outputs is a lost ledger, not a new one.
    static func checkNotEmpty(path: String, directory: String) throws(LedgerError) {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size == 0 else { return }
        if let evidence = committedOutputs(in: directory) {
            throw refusal(path: path, reason: "is empty (0 bytes) while \(evidence)")
        }
    }

    /// Reads the version and checks the database's integrity (`PRAGMA quick_check`).
    static func examine(_ database: SQLiteDatabase, path: String, directory: String, existed: Bool) throws(LedgerError) -> Condition {
        let version: Int
        let tables: [String]
        do throws(LedgerError) {
            version = try database.scalar("PRAGMA user_version")
            tables = try database.texts("SELECT name FROM sqlite_master WHERE type = 'table'")
            let check = try database.texts("PRAGMA quick_check")
            if check != ["ok"] {
                throw LedgerError.sqlite(path: path, message: check.prefix(3).joined(separator: "; "))
            }
        } catch {
            let message: String
            if case .sqlite(_, let text) = error { message = text } else { message = error.description }
            throw refusal(path: path, reason: "is not a readable SQLite database (\(message))")
        }
        if version > schemaVersion {
            throw .refused(path: path, reason: "has schema version \(version), and this sluice knows versions up to \(schemaVersion) (was it written by a newer sluice?)",
                           advice: "Run a sluice that knows version \(version), or rebuild the ledger with `sluice ledger rebuild CONFIG`.")
        }
        let known: Set<String> = ["runs", "run_files", "files", "failures"]
        if version == schemaVersion && known.isSubset(of: tables) { return .current }
        if tables.isEmpty {
            if existed, version == 0, let evidence = committedOutputs(in: directory) {
                throw refusal(path: path, reason: "holds no tables while \(evidence)")
            }
            return .fresh
        }
        if version == 0 && known.isSubset(of: tables) { return .legacy }
        throw refusal(path: path, reason: "is not a sluice ledger of version \(version) (tables: \(tables.sorted().joined(separator: ", ")))")
    }

    static func refusal(path: String, reason: String) -> LedgerError {
        .refused(path: path, reason: reason, advice: """
            A new ledger would process every input file again and duplicate the records already committed, so \
            sluice stops here (exit 5). `sluice ledger rebuild CONFIG --dry-run` lists what the journal restores and \
            what the next run would then process; `sluice ledger rebuild CONFIG` rebuilds the ledger from the journal \
            and keeps the old file beside it.
            """)
    }

    /// Why `directory` looks like it holds committed outputs, or nil: the ledger journal
    /// names a committed run, or a run summary there names outputs.
    public static func committedOutputs(in directory: String) -> String? {
        let journal = LedgerJournal(directory: directory)
        let committed = journal.lines().filter { $0["state"] as? String == "committed" || $0["state"] as? String == "snapshot" }.count
        if committed > 0 { return "its journal (\(LedgerJournal.fileName)) records \(committed) committed run\(committed == 1 ? "" : "s")" }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var summaries = 0
        for name in names where name.hasSuffix(".summary.json") && !name.hasPrefix(".") {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let outputs = object["outputs"] as? [Any], !outputs.isEmpty else { continue }
            summaries += 1
        }
        if summaries > 0 { return "\(summaries) run summar\(summaries == 1 ? "y" : "ies") in \(directory) name committed outputs" }
        return nil
    }
}
