import SluiceCore

/// `lookup: { file, key, key_column, fields | into, on_miss, ... }` — the kind's
/// declaration (keys, docs, builder).
extension LookupStage {
    public enum Keys {
        public static let file = Setting.required("file", .string, "The reference file (CSV with a header row, or NDJSON), loaded once at config load and held in memory; relative to the config file's directory.")
        // Checked by `make` against the file's extension.
        public static let format = Setting.optional("format", .string, "`csv` or `ndjson`; default: from the extension (`.csv`; `.ndjson`, `.jsonl`, `.json`).")
        public static let key = Setting.required("key", .expression, "The value looked up; compared as text (a string's content, a number's JSON text). Null or missing is a miss.")
        public static let keyColumn = Setting.required("key_column", .string, "The reference column (CSV) or field path (NDJSON) holding each row's key.")
        public static let fields = Setting.fields("fields", label: "output field", .string, "The column written to each output field on a hit. CSV values are strings (use `cast` after). Exclusive with `into`.")
        public static let into = Setting.optional("into", .fieldPath, "The field that receives the whole row as an object. Exclusive with `fields`.")
        public static let onMiss = Setting.choice("on_miss", MissPolicy.allCases.map(\.rawValue), default: MissPolicy.keep.rawValue, "`keep` (unchanged), `drop` (filtered), `error` (the record fails, naming the key) or `default`.")
        public static let defaults = Setting.fields("default", label: "column", .string, "The row used on a miss under `on_miss: default`; columns it leaves out are null.")
        public static let duplicates = Setting.choice("duplicates", ["error", "first"], default: "error", "A key on two rows: `error` (config error naming both lines) or `first` (the first row wins).")
        public static let maxRows = Setting.integer("max_rows", 1...Int(Int32.max), default: 1_000_000, "Most rows the reference may hold; more is a config error. Each row costs about 100 bytes plus its key and written values (100,000 rows with two short columns: ~20 MB).")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Enrich records from a CSV or NDJSON reference file loaded once, by key.",
        value: .mapping([Keys.file.key, Keys.format.key, Keys.key.key, Keys.keyColumn.key, Keys.fields.key, Keys.into.key,
                         Keys.onMiss.key, Keys.defaults.key, Keys.duplicates.key, Keys.maxRows.key]),
        example: "{ file: fixtures/reference/countries.csv, key: customer.country, key_column: code, fields: { country_name: name } }"
    ) { (value, context) throws(StageConfigError) -> any Stage in
        try make(config: .init(file: value.required(Keys.file) ?? "", format: value[Keys.format], key: value.required(Keys.key) ?? "",
                               keyColumn: value.required(Keys.keyColumn) ?? "", fields: value[Keys.fields].fields, into: value[Keys.into],
                               onMiss: value[Keys.onMiss], defaults: value[Keys.defaults].fields, duplicates: value[Keys.duplicates],
                               maxRows: value[Keys.maxRows]),
                 baseDirectory: context.baseDirectory)
    }
}
