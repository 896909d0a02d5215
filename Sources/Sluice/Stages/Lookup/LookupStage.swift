import Foundation
import SluiceCore

/// Enriches records from a reference file (CSV or NDJSON) loaded once, when the config
/// is loaded: a missing, unreadable or malformed file is a config error (exit 2) naming
/// the file and the line.
///
/// Each record's `key` expression is looked up in the reference's `key_column`. Keys
/// compare as text: a string by its content, a number or boolean by its JSON text as
/// written, so the CSV value `42` matches the number `42` (but not `42.0`). A null or
/// missing key is a miss; an object or array key fails the record (kind `transform`).
///
/// On a hit the stage writes either some columns (`fields: {output path: column}`) or
/// the whole row as one object (`into: path`). CSV values are always strings (convert
/// them with a `cast` stage after); NDJSON values keep their JSON type, and a column
/// absent from an NDJSON row is written as `null`.
///
/// On a miss, `on_miss` decides: `keep` (default: the record goes on unchanged), `drop`
/// (counted as filtered), `error` (the record fails with kind `transform`, naming the
/// key) or `default` (the `default:` row is used as if it had been found: column → value
/// as strings; a column it does not name is `null`).
///
/// A key that appears twice in the reference is a config error naming both lines,
/// unless `duplicates: first` keeps the first row. Memory: the whole file is held (see
/// ``ReferenceTable``); past `max_rows` rows (default 1,000,000) loading fails clearly.
/// Relative `file` paths resolve against the config file's directory.
///
/// ```yaml
/// - name: countries
///   lookup:
///     file: ../fixtures/reference/countries.csv
///     key: customer.country            # an expression on the record
///     key_column: code                 # the reference column it must equal
///     fields: { country_name: name, region: region }
///     on_miss: default
///     default: { name: Unknown, region: "?" }
/// ```
public struct LookupStage: Stage {
    /// Configuration of `lookup`.
    public struct Config: Sendable, Equatable {
        /// The reference file; relative paths resolve against the base directory given
        /// to ``make(config:baseDirectory:)`` (the config file's directory).
        public var file: String
        /// `csv` or `ndjson`; nil picks by extension (`.csv`; `.ndjson`, `.jsonl`, `.json`).
        public var format: String?
        /// The expression on the record whose value is looked up.
        public var key: String
        /// The reference column (CSV) or field path (NDJSON) holding each row's key.
        public var keyColumn: String
        /// Output field path → reference column, in config order (exclusive with `into`).
        public var fields: [SelectStage.Field]
        /// The field path that receives the whole row as an object (exclusive with `fields`).
        public var into: String?
        /// `keep`, `drop`, `error` or `default`.
        public var onMiss: String
        /// The row used on a miss when `onMiss` is `default`: column → value.
        public var defaults: [SelectStage.Field]
        /// `error` (default) or `first`.
        public var duplicates: String
        /// Most data rows the reference may hold.
        public var maxRows: Int

        public init(file: String, format: String? = nil, key: String, keyColumn: String, fields: [SelectStage.Field] = [],
                    into: String? = nil, onMiss: String = Keys.onMiss.defaultValue!, defaults: [SelectStage.Field] = [],
                    duplicates: String = Keys.duplicates.defaultValue!, maxRows: Int = Keys.maxRows.defaultValue!) {
            self.file = file
            self.format = format
            self.key = key
            self.keyColumn = keyColumn
            self.fields = fields
            self.into = into
            self.onMiss = onMiss
            self.defaults = defaults
            self.duplicates = duplicates
            self.maxRows = maxRows
        }
    }

    /// What happens to a record whose key is not in the reference.
    public enum MissPolicy: String, Sendable, CaseIterable {
        case keep, drop, error, `default`
    }

    public static let kind = "lookup"

    let key: CompiledExpression
    let keyText: String
    let table: ReferenceTable
    let editor: RecordEditor
    let onMiss: MissPolicy
    /// The projected row written on a miss under `on_miss: default`.
    let defaultRow: [[UInt8]]
    /// The file name, for messages.
    let fileName: String

    /// Builds the stage and loads the reference file.
    ///
    /// - Parameter baseDirectory: where relative `file` paths start ("" for the working
    ///   directory).
    /// - Throws: ``StageConfigError`` for a bad expression or path, conflicting keys, or a
    ///   reference file that is missing, unreadable or malformed (with its line).
    public static func make(config: Config, baseDirectory: String = "") throws(StageConfigError) -> LookupStage {
        var problems: [StageConfigProblem] = []
        func problem(_ key: String?, _ message: String) {
            problems.append(StageConfigProblem(keyPath: [kind] + (key.map { [$0] } ?? []), message: message))
        }
        var key: CompiledExpression?
        do {
            key = try CompiledExpression(config.key)
        } catch {
            problems.append(StageConfigProblem(keyPath: [kind, "key"], error))
        }
        let onMiss = MissPolicy(rawValue: config.onMiss)
        if onMiss == nil { problem("on_miss", "'\(config.onMiss)' is not one of keep, drop, error, default") }
        if onMiss == .default && config.defaults.isEmpty { problem("on_miss", "on_miss: default needs a 'default' row (column: value)") }
        if onMiss != .default && !config.defaults.isEmpty { problem("default", "'default' is used only with on_miss: default") }
        if !["error", "first"].contains(config.duplicates) { problem("duplicates", "'\(config.duplicates)' is not one of error, first") }
        if config.maxRows < 1 { problem("max_rows", "must be 1 or more") }
        let format: ReferenceTable.Format?
        if let name = config.format {
            format = ReferenceTable.Format(rawValue: name)
            if format == nil { problem("format", "'\(name)' is not one of csv, ndjson") }
        } else {
            switch URL(fileURLWithPath: config.file).pathExtension.lowercased() {
            case "csv": format = .csv
            case "ndjson", "jsonl", "json": format = .ndjson
            default:
                format = nil
                problem("file", "cannot tell the format of '\(config.file)' from its extension; set format: csv or ndjson")
            }
        }
        let outputs: [String]
        switch (config.fields.isEmpty, config.into) {
        case (false, nil): outputs = config.fields.map(\.key)
        case (true, let into?): outputs = [into]
        case (false, _?):
            outputs = []
            problem(nil, "lookup takes 'fields' or 'into', not both")
        case (true, nil):
            outputs = []
            problem(nil, "lookup needs 'fields' (output field: column) or 'into' (a field for the whole row)")
        }
        let edits = outputs.isEmpty ? nil : FieldEdits.editor(outputs, keyPath: { config.into != nil ? [kind, "into"] : [kind, "fields", config.fields[$0].key] }, problems: &problems)
        guard problems.isEmpty, let key, let onMiss, let format, let (editor, _) = edits else { throw StageConfigError(problems: problems) }

        let path = config.file.hasPrefix("/") || baseDirectory.isEmpty
            ? config.file : URL(fileURLWithPath: baseDirectory).appendingPathComponent(config.file).path
        let projection: ReferenceTable.Projection = config.into == nil ? .columns(config.fields.map(\.expression)) : .row
        let table: ReferenceTable
        do {
            guard let data = FileManager.default.contents(atPath: path) else {
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                throw ReferenceTable.LoadError(line: 0, message: exists ? (isDirectory.boolValue ? "is a directory" : "cannot be read") : "does not exist")
            }
            table = try ReferenceTable(bytes: [UInt8](data), format: format, keyColumn: config.keyColumn, projection: projection,
                                       firstWins: config.duplicates == "first", maxRows: config.maxRows)
        } catch let error as ReferenceTable.LoadError {
            problem("file", "reference '\(path)'\(error.line > 0 ? " line \(error.line)" : ""): \(error.message)")
            throw StageConfigError(problems: problems)
        } catch {
            problem("file", "reference '\(path)': \(error)")
            throw StageConfigError(problems: problems)
        }

        var defaultRow: [[UInt8]] = []
        if onMiss == .default {
            var writer = JSONWriter()
            let given = Dictionary(config.defaults.map { ($0.key, $0.expression) }, uniquingKeysWith: { a, _ in a })
            func text(_ value: String?) -> [UInt8] {
                writer.reset()
                if let value { writer.write(value) } else { writer.writeNull() }
                return writer.bytes
            }
            let known = table.header ?? (config.into == nil ? config.fields.map(\.expression) : nil)
            if let known {
                for column in config.defaults.map(\.key) where !known.contains(column) {
                    problem("default", ReferenceTable.noColumn(column, known))
                }
            }
            if config.into == nil {
                defaultRow = config.fields.map { text(given[$0.expression]) }
            } else {
                writer.reset()
                writer.beginObject()
                for column in table.header ?? config.defaults.map(\.key) {
                    writer.key(column)
                    if let value = given[column] { writer.write(value) } else { writer.writeNull() }
                }
                writer.endObject()
                defaultRow = [writer.bytes]
            }
            guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        }
        return LookupStage(key: key, keyText: config.key, table: table, editor: editor, onMiss: onMiss,
                           defaultRow: defaultRow, fileName: URL(fileURLWithPath: path).lastPathComponent)
    }

    /// Number of rows held.
    var rowCount: Int { table.rows.count }

    public func process(_ batch: inout Batch, context: StageContext) {
        let actions = UnsafeMutableBufferPointer<RecordEditor.Action>.allocate(capacity: editor.count)
        actions.initialize(repeating: .skip)
        defer {
            actions.deinitialize()
            actions.deallocate()
        }
        var scratch: [UInt8] = []
        batch.rewrite(context: context) { root, view, out in
            let value: ExpressionValue
            do throws(EvaluationError) {
                value = try key.evaluate(record: root, in: view, now: context.now)
            } catch {
                return .fail(.transform, "lookup key: \(error.message)")
            }
            scratch.removeAll(keepingCapacity: true)
            var row: [[UInt8]]?
            if ReferenceTable.appendKeyText(value, view: view, to: &scratch) {
                row = table.index[scratch].map { table.rows[$0] }
            } else {
                let type = value.type(in: view)
                if type == .array || type == .object {
                    return .fail(.transform, "lookup key '\(keyText)' is \(type.withArticle), not a string, number or boolean")
                }
            }
            if row == nil {
                switch onMiss {
                case .keep:
                    out.copy(view, root)
                    return .keep
                case .drop:
                    return .drop
                case .error:
                    return .fail(.transform, missMessage(value, view: view))
                case .default:
                    row = defaultRow
                }
            }
            guard let row else { return .keep }
            for k in 0..<editor.count { actions[k] = .raw(row[k]) }
            let start = out.writer.bytes.count
            editor.write(record: root, view: view, actions: UnsafeBufferPointer(actions), to: &out.writer)
            out.finish(from: start)
            return .keep
        }
    }

    /// The error line of a miss under `on_miss: error`.
    private func missMessage(_ value: ExpressionValue, view: JSONView) -> String {
        let shown = value == .null ? "null" : String(decoding: value.withStringBytes(in: view) { Array($0) } ?? value.jsonText(in: view), as: UTF8.self)
        return "lookup: no row of \(fileName) has the key '\(shown)' (from '\(keyText)')"
    }
}
