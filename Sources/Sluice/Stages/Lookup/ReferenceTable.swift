import Foundation
import SluiceCore

/// A lookup stage's reference file, loaded once and held whole in memory: an index from
/// key text to row, and per row the JSON text of each value the stage writes.
///
/// Memory: the file is read whole, then kept as one hash-table entry per row (about 80
/// bytes plus the key's length) and the JSON text of the values the stage writes (each
/// output value about 40 bytes plus its length). A 100,000-row file with two short
/// output columns takes about 20 MB.
struct ReferenceTable: Sendable {
    /// The reference format.
    enum Format: String, Sendable, CaseIterable {
        case csv, ndjson
    }

    /// What to keep of each row: the JSON text of some columns, or the whole row as one
    /// JSON object.
    enum Projection: Sendable {
        case columns([String])
        case row
    }

    /// Where a load failed: a line of the reference file (0 when the file as a whole).
    struct LoadError: Error, Equatable {
        var line: Int
        var message: String
    }

    /// Key text → row number.
    let index: [[UInt8]: Int]
    /// Per row, the JSON text of each projected value (`null` for an absent one).
    let rows: [[[UInt8]]]
    /// The CSV header, or nil for NDJSON.
    let header: [String]?

    /// Loads `bytes` as `format`.
    ///
    /// - Parameters:
    ///   - keyColumn: the column (CSV) or field path (NDJSON) holding each row's key.
    ///   - firstWins: keep the first row of a repeated key instead of failing.
    /// - Throws: ``LoadError`` naming the line.
    init(bytes: [UInt8], format: Format, keyColumn: String, projection: Projection,
         firstWins: Bool, maxRows: Int) throws(LoadError) {
        var index: [[UInt8]: Int] = [:]
        var rows: [[[UInt8]]] = []
        var keyLines: [Int] = []
        func add(key: [UInt8], row: [[UInt8]], line: Int) throws(LoadError) {
            if let first = index[key] {
                if firstWins { return }
                throw LoadError(line: line, message: "key '\(String(decoding: key, as: UTF8.self))' repeats the row of line \(keyLines[first]) (set duplicates: first to keep the first)")
            }
            guard rows.count < maxRows else {
                throw LoadError(line: line, message: "more than max_rows (\(maxRows)) rows; raise lookup.max_rows")
            }
            index[key] = rows.count
            rows.append(row)
            keyLines.append(line)
        }
        switch format {
        case .csv:
            let records: [CSVReader.Record]
            do {
                records = try CSVReader.records(bytes)
            } catch {
                throw LoadError(line: error.line, message: error.message)
            }
            guard let first = records.first else { throw LoadError(line: 0, message: "the file is empty (a CSV reference needs a header row)") }
            var header: [String] = []
            for name in first.fields {
                guard let text = String(validating: name, as: UTF8.self), !text.isEmpty else {
                    throw LoadError(line: first.line, message: "the header has an empty or non-UTF-8 column name")
                }
                guard !header.contains(text) else { throw LoadError(line: first.line, message: "the header names column '\(text)' twice") }
                header.append(text)
            }
            guard let keyIndex = header.firstIndex(of: keyColumn) else {
                throw LoadError(line: first.line, message: ReferenceTable.noColumn(keyColumn, header))
            }
            var wanted: [Int] = []
            if case .columns(let names) = projection {
                for name in names {
                    guard let k = header.firstIndex(of: name) else { throw LoadError(line: first.line, message: ReferenceTable.noColumn(name, header)) }
                    wanted.append(k)
                }
            }
            for record in records.dropFirst() {
                guard record.fields.count == header.count else {
                    throw LoadError(line: record.line, message: "the row has \(record.fields.count) fields, the header has \(header.count)")
                }
                var writer = JSONWriter(capacity: 64)
                var row: [[UInt8]] = []
                func string(_ field: [UInt8]) throws(LoadError) -> [UInt8] {
                    guard let text = String(validating: field, as: UTF8.self) else {
                        throw LoadError(line: record.line, message: "a field is not valid UTF-8")
                    }
                    writer.reset()
                    writer.write(text)
                    return writer.bytes
                }
                switch projection {
                case .columns:
                    for k in wanted { row.append(try string(record.fields[k])) }
                case .row:
                    var object: [UInt8] = [UInt8(ascii: "{")]
                    for (k, name) in header.enumerated() {
                        if k > 0 { object.append(UInt8(ascii: ",")) }
                        object += try string(Array(name.utf8)) + [UInt8(ascii: ":")] + string(record.fields[k])
                    }
                    object.append(UInt8(ascii: "}"))
                    row.append(object)
                }
                _ = try string(record.fields[keyIndex])
                try add(key: record.fields[keyIndex], row: row, line: record.line)
            }
            self.header = header
        case .ndjson:
            let keyPath: PathLookup
            var columnPaths: [PathLookup] = []
            do {
                keyPath = PathLookup(try FieldPath(parsing: keyColumn))
                if case .columns(let names) = projection {
                    for name in names { columnPaths.append(PathLookup(try FieldPath(parsing: name))) }
                }
            } catch {
                throw LoadError(line: 0, message: "bad field path: \(error.description)")
            }
            var lineStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var line = 1
            for i in lineStart...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "\n") {
                var end = i
                if end > lineStart && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                defer {
                    lineStart = i + 1
                    line += 1
                }
                let text = Array(bytes[lineStart..<end])
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                var batch = Batch(file: 0, index: 0, bytes: text, records: [RecordSlot(start: 0, end: text.count, line: line, offset: lineStart)])
                do {
                    try batch.indexRecord(at: 0)
                } catch {
                    throw LoadError(line: line, message: "invalid JSON: \(error.message)")
                }
                let entry: (key: [UInt8], row: [[UInt8]])? = try batch.withView { (view) throws(LoadError) in
                    let root = Int(batch.records[0].tapeStart)
                    guard view.kind(root) == .object else { throw LoadError(line: line, message: "the row is not a JSON object") }
                    guard let keyNode = keyPath.resolve(in: view, root: root), view.kind(keyNode) != .null else {
                        throw LoadError(line: line, message: "the row has no key field '\(keyColumn)'")
                    }
                    guard let key = ReferenceTable.keyText(.node(keyNode), view: view) else {
                        throw LoadError(line: line, message: "the key field '\(keyColumn)' is \(ValueType(node: keyNode, in: view).withArticle), not a string, number or boolean")
                    }
                    switch projection {
                    case .columns:
                        return (key, columnPaths.map { path in path.resolve(in: view, root: root).map { Array(view.rawBytes($0)) } ?? Array("null".utf8) })
                    case .row:
                        return (key, [Array(view.rawBytes(root))])
                    }
                }
                if let entry { try add(key: entry.key, row: entry.row, line: line) }
            }
            self.header = nil
        }
        self.index = index
        self.rows = rows
    }

    static func noColumn(_ name: String, _ header: [String]) -> String {
        var message = "no column '\(name)' in the header (\(header.joined(separator: ", ")))"
        if let guess = closestMatch(to: name, in: header) { message += "; did you mean '\(guess)'?" }
        return message
    }

    /// The text a key compares by, so that the CSV text `42` matches the number `42`: a
    /// string's content, a number's JSON text as written, `true`/`false`. Nil for null,
    /// objects and arrays.
    static func keyText(_ value: ExpressionValue, view: JSONView) -> [UInt8]? {
        var out: [UInt8] = []
        return appendKeyText(value, view: view, to: &out) ? out : nil
    }

    /// Appends the key text of `value` to `out`; false for null, objects and arrays.
    @inline(__always)
    static func appendKeyText(_ value: ExpressionValue, view: JSONView, to out: inout [UInt8]) -> Bool {
        switch value {
        case .null, .array: return false
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int, .double: out += value.jsonText(in: view)
        case .string(let s): out += s
        case .node(let i):
            switch view.kind(i) {
            case .string: _ = value.withStringBytes(in: view) { out.append(contentsOf: $0) }
            case .number, .true, .false: out.append(contentsOf: view.rawBytes(i))
            case .null, .object, .array: return false
            }
        }
        return true
    }
}
