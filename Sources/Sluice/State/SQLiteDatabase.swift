import CSQLite

/// A thin wrapper over one SQLite connection (the C API), enough for the ledger:
/// statements with positional parameters, rows read by column index, and transactions.
///
/// Not thread-safe: one thread uses a connection at a time.
final class SQLiteDatabase {
    private var handle: OpaquePointer?
    let path: String

    /// Opens (creating when missing) the database at `path`; `readOnly` opens an
    /// existing one without writing to it.
    init(path: String, readOnly: Bool = false) throws(LedgerError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw .sqlite(path: path, message: message)
        }
        handle = db
        sqlite3_busy_timeout(db, 5_000)
    }

    deinit { sqlite3_close(handle) }

    /// Runs SQL without results (several statements allowed).
    func execute(_ sql: String) throws(LedgerError) {
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw .sqlite(path: path, message: text)
        }
    }

    func prepare(_ sql: String) throws(LedgerError) -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw .sqlite(path: path, message: errorMessage)
        }
        return SQLiteStatement(statement, database: self)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws.
    func transaction(_ body: () throws(LedgerError) -> Void) throws(LedgerError) {
        try execute("BEGIN IMMEDIATE")
        do {
            try body()
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` inside one deferred (read) transaction, `BEGIN … COMMIT`: its queries
    /// share one shared lock and one check of the journal, where each query on its own
    /// takes and drops the lock and looks for a hot journal (about ten system calls).
    func reading<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        try execute("BEGIN")
        let result: T
        do {
            result = try body()
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        try execute("COMMIT")
        return result
    }

    var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// The first column of the first row of `sql` as an integer (0 when there is no row).
    func scalar(_ sql: String) throws(LedgerError) -> Int {
        let statement = try prepare(sql)
        statement.bind([])
        return try statement.step() ? statement.int(0) : 0
    }

    /// The first column of every row of `sql`, as text.
    func texts(_ sql: String) throws(LedgerError) -> [String] {
        let statement = try prepare(sql)
        statement.bind([])
        var rows: [String] = []
        while try statement.step() { rows.append(statement.text(0) ?? "") }
        return rows
    }
}

/// A prepared statement; bind parameters (1-based), then `step()` through the rows.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let database: SQLiteDatabase

    fileprivate init(_ statement: OpaquePointer, database: SQLiteDatabase) {
        self.statement = statement
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    /// Clears the previous bindings and binds `values` (Int, String, or nil) in order.
    @discardableResult
    func bind(_ values: [(any Sendable)?]) -> SQLiteStatement {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case let v as Int: sqlite3_bind_int64(statement, index, Int64(v))
            case let v as String: sqlite3_bind_text(statement, index, v, -1, sluice_sqlite_transient())
            default: sqlite3_bind_null(statement, index)
            }
        }
        return self
    }

    /// Advances to the next row; false when there is none.
    func step() throws(LedgerError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw .sqlite(path: database.path, message: database.errorMessage)
        }
    }

    /// Runs a statement that returns no rows.
    package func run(_ values: [(any Sendable)?]) throws(LedgerError) {
        bind(values)
        while try step() {}
        sqlite3_reset(statement)
    }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        return String(cString: pointer)
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    /// Ends the statement's current run (releases what it holds until the next `bind`).
    func reset() { sqlite3_reset(statement) }

    /// Binds one parameter (1-based), keeping the others: for a statement run once per
    /// row of many, without the boxed array ``bind(_:)`` takes (each of its values is
    /// cast back to its type).
    func set(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(statement, index, Int64(value))
    }

    /// Binds text, or NULL for nil (see ``set(_:_:)-(Int32,Int)``).
    func set(_ index: Int32, _ value: String?) {
        guard let value else {
            sqlite3_bind_null(statement, index)
            return
        }
        sqlite3_bind_text(statement, index, value, -1, sluice_sqlite_transient())
    }

    /// Runs the statement with its current bindings, which it keeps for the next run.
    func runBound() throws(LedgerError) {
        sqlite3_reset(statement)
        while try step() {}
        sqlite3_reset(statement)
    }
}
