import SluiceCore
import SluiceStages
import SluiceIO

/// `output.parquet:` — the schema and row-group settings of `format: parquet`.
///
/// ```yaml
/// output:
///   format: parquet
///   compression: gzip              # page codec (or parquet.compression: zstd)
///   parquet:
///     row_group_rows: 122880
///     schema:
///       - { name: id, type: int64, nullable: false }
///       - { name: total, type: "decimal(12,2)", path: total_cents_text }
///       - { name: at, type: "timestamp(ms)" }
///       - { name: tags, type: "list<string>" }
///       - { name: address, type: struct, fields: [{ name: city, type: string }] }
/// ```
enum ParquetSchemaConfig {
    static let fieldKeys: [ConfigKey] = [
        ConfigKey("name", .string, "The struct field's name, also the member of the object it is read from.", required: true),
        ConfigKey("type", .string, "A primitive type (see `schema[].type`).", required: true),
        ConfigKey("nullable", .boolean, "Whether the field may be null or missing.", default: "true"),
    ]

    static let columnKeys: [ConfigKey] = [
        ConfigKey("name", .string, "The column's name.", required: true),
        ConfigKey("type", .string, "`bool`, `int32`, `int64`, `double`, `string`, `binary`, `date`, `timestamp(ms|us[, utc|local])`, `decimal(p,s)` (p ≤ 38), `list<T>` of a primitive, or `struct` (with `fields`).", required: true),
        ConfigKey("path", .string, "Field path or expression whose value fills the column (default: the name)."),
        ConfigKey("nullable", .boolean, "Whether the value may be null or missing; a null in a column that is not nullable fails the record (kind `validation`).", default: "true"),
        ConfigKey("element_nullable", .boolean, "`list<T>`: whether elements may be null.", default: "true"),
        ConfigKey("fields", .list(.mapping(fieldKeys)), "`struct`: its primitive fields."),
    ]

    static let keys: [ConfigKey] = [
        ConfigKey("schema", .list(.mapping(columnKeys)), "The columns, in order.", required: true),
        ConfigKey("row_group_rows", .integer(1...100_000_000), "Rows per row group.", default: "122880"),
        ConfigKey("row_group_bytes", .byteSize(1024...(1 << 31)), "A row group is written early once its buffered values pass this size: the memory bound of one open output or partition.", default: "32MiB"),
        ConfigKey("dictionary_bytes", .byteSize(0...(1 << 30)), "A column chunk whose dictionary would pass this size is written PLAIN (0: never dictionary).", default: "1MiB"),
        ConfigKey("compression", .choice(ParquetCodec.allCases.map(\.rawValue)), "Page codec; default: `output.compression` (`zstd` loads libzstd.so.1 at run time)."),
    ]

    static func build(_ node: ConfigNode) -> ParquetOptions? {
        guard let map = node.mapping(allowed: ConfigSchema.names(keys)) else { return nil }
        var options = ParquetOptions()
        var ok = true
        if let n = map["row_group_rows"] { if let v = n.int(in: 1...100_000_000) { options.rowGroupRows = v } else { ok = false } }
        if let n = map["row_group_bytes"] { if let v = n.byteSize(in: 1024...(1 << 31)) { options.rowGroupBytes = v } else { ok = false } }
        if let n = map["dictionary_bytes"] { if let v = n.byteSize(in: 0...(1 << 30)) { options.dictionaryBytes = v } else { ok = false } }
        if let n = map["compression"] {
            if let v = n.choice(ParquetCodec.allCases.map(\.rawValue)) { options.codec = ParquetCodec(rawValue: v) } else { ok = false }
        }
        guard let schemaNode = map["schema"] else {
            node.report("missing required key 'schema' (a list of columns: name, type)")
            return nil
        }
        guard let items = schemaNode.sequence(), !items.isEmpty else {
            schemaNode.report("must be a non-empty list of columns")
            return nil
        }
        var names: Set<String> = []
        for item in items {
            guard let column = buildColumn(item) else { ok = false; continue }
            if !names.insert(column.name).inserted {
                item.report("duplicate column name '\(column.name)'")
                ok = false
            }
            options.columns.append(column)
        }
        return ok ? options : nil
    }

    private static func bool(_ map: [String: ConfigNode], _ key: String, _ ok: inout Bool) -> Bool? {
        guard let n = map[key] else { return nil }
        let v = n.bool()
        if v == nil { ok = false }
        return v
    }

    private static func primitive(_ node: ConfigNode) -> ParquetType? {
        guard let text = node.string() else { return nil }
        guard let type = ParquetType(text: text) else {
            node.report("'\(text)' is not a parquet type (bool, int32, int64, double, string, binary, date, timestamp(ms|us[, utc|local]), decimal(p,s))")
            return nil
        }
        return type
    }

    private static func buildColumn(_ node: ConfigNode) -> ParquetColumn? {
        guard let map = node.mapping(allowed: ConfigSchema.names(columnKeys)) else { return nil }
        guard let name = map["name"]?.string(), !name.isEmpty else {
            (map["name"] ?? node).report("a column needs a non-empty 'name'")
            return nil
        }
        guard let typeNode = map["type"], let typeText = typeNode.string() else {
            (map["type"] ?? node).report("column '\(name)' needs a 'type'")
            return nil
        }
        var ok = true
        let nullable = bool(map, "nullable", &ok) ?? true
        let elementNullable = bool(map, "element_nullable", &ok)
        let path = map["path"]?.string() ?? name
        let compiled: CompiledExpression
        do {
            compiled = try CompiledExpression(path)
        } catch {
            (map["path"] ?? node).report("column '\(name)': \(error.message)", columnInValue: error.column)
            return nil
        }
        let t = typeText.filter { !$0.isWhitespace }.lowercased()
        let shape: ParquetColumn.Shape
        if t == "struct" {
            guard let fieldsNode = map["fields"], let items = fieldsNode.sequence(), !items.isEmpty else {
                (map["fields"] ?? typeNode).report("type struct needs 'fields' (a list of name, type)")
                return nil
            }
            var fields: [ParquetField] = []
            var seen: Set<String> = []
            for item in items {
                guard let fmap = item.mapping(allowed: ConfigSchema.names(fieldKeys)),
                      let fname = fmap["name"]?.string(), let ftypeNode = fmap["type"] else {
                    item.report("a struct field needs 'name' and 'type'")
                    ok = false
                    continue
                }
                guard let ftype = primitive(ftypeNode) else { ok = false; continue }
                if !seen.insert(fname).inserted { item.report("duplicate field name '\(fname)'"); ok = false }
                fields.append(ParquetField(name: fname, type: ftype, nullable: bool(fmap, "nullable", &ok) ?? true))
            }
            shape = .structure(fields)
        } else if t.hasPrefix("list<"), t.hasSuffix(">") {
            guard let element = ParquetType(text: String(t.dropFirst(5).dropLast())) else {
                typeNode.report("'\(typeText)': a list's element must be a primitive type")
                return nil
            }
            shape = .list(element, elementNullable: elementNullable ?? true)
        } else {
            guard let type = primitive(typeNode) else { return nil }
            shape = .primitive(type)
        }
        if case .structure = shape {} else if let n = map["fields"] { n.report("'fields' applies to type struct only"); ok = false }
        if case .list = shape {} else if let n = map["element_nullable"] { n.report("'element_nullable' applies to list types only"); ok = false }
        guard ok else { return nil }
        return ParquetColumn(name: name, path: path, shape: shape, nullable: nullable, compiled: compiled)
    }
}
