/// One config key of a stage kind, described once: the registry's builders take their
/// allowed keys from these lists, and `docs/stages.md` is generated from them, so the
/// reference cannot drift from the loader.
public struct StageKey: Sendable, Equatable {
    /// The YAML key; `<field>`-style names in angle brackets are placeholders for keys the
    /// user chooses (field paths), and `(value)` is the stage's value itself when it is
    /// not a mapping.
    public var name: String
    /// What the value is: `expression`, `string`, `int`, `list of field paths`, …
    public var type: String
    /// What it does, with its default.
    public var doc: String

    public init(_ name: String, _ type: String, _ doc: String) {
        self.name = name
        self.type = type
        self.doc = doc
    }

    /// Whether this names a real key (not a placeholder for user-chosen keys or the value).
    public var isFixed: Bool { !name.hasPrefix("<") && !name.hasPrefix("(") }
}

extension [StageKey] {
    /// The fixed key names, for ``ConfigNode/mapping(allowed:quiet:)``.
    var names: [String] { filter(\.isFixed).map(\.name) }
}

/// The keys of every stage kind.
extension StageRegistry {
    static let filterKeys = [StageKey("(value)", "expression", "The condition; a record is kept when it is `true` (null and false drop it).")]
    static let selectKeys = [StageKey("<output field>", "expression", "Each output field and the expression of its value; the new record has only these fields, in this order.")]
    static let validateKeys = [
        StageKey("required", "list of field paths", "Fields that must be present and not null."),
        StageKey("types", "mapping field → type", "`string`, `int`, `number`, `bool`, `object`, `array` or `null`; a missing or null field passes."),
        StageKey("ranges", "mapping field → {min, max}", "Inclusive numeric bounds (either may be left out); a non-number fails."),
        StageKey("enums", "mapping field → list", "Allowed values, compared as text (`1` allows `1` and `\"1\"`)."),
        StageKey("patterns", "mapping field → regex", "A regular expression (ICU) the string must match somewhere; anchor with `^...$`. Compiled at load."),
        StageKey("lengths", "mapping field → {min, max}", "Inclusive bounds on a string's length (Unicode scalars) or an array's element count."),
        StageKey("rules", "list of {expr, message}", "Expressions that must be `true`; false, null, another value or an error fail the rule, named by `message` (default `rule '<expr>' failed`)."),
    ]
    static let commandKeys = [
        StageKey("(value)", "list of strings", "Short form: the program and its arguments, e.g. `[python3, enrich.py]`."),
        StageKey("run", "list of strings", "Long form: the program and its arguments (looked up in PATH unless it contains `/`)."),
        StageKey("timeout", "duration", "How long a worker may take to answer a batch before it is killed and replaced (default 30s)."),
        StageKey("max_restarts", "int", "Worker replacements allowed per run before the run fails (default 10)."),
        StageKey("env", "mapping", "Environment variables added to the inherited environment."),
        StageKey("cwd", "string", "The workers' working directory (default: Sluice's)."),
        StageKey("stop_grace", "duration", "At the end, how long workers have after EOF before SIGTERM (default 5s)."),
    ]
    static let setKeys = [StageKey("<field path>", "expression", "The field to add or overwrite and its value; every expression reads the input record.")]
    static let renameKeys = [StageKey("<field path>", "field path", "The field to move and its new path; values are kept byte for byte. Paths may not overlap, so two fields cannot be swapped in one stage (use two stages and a temporary name).")]
    static let dropKeys = [StageKey("(value)", "list of field paths", "The fields to remove (a missing field is no error).")]
    static let castKeys = [StageKey("<field path>", "type", "`int`, `float`, `string` or `bool`; a value that does not convert fails the record, a missing or null one is left alone.")]
    static let defaultKeys = [StageKey("<field path>", "expression", "The value written when the field is missing or null.")]
    static let explodeKeys = [
        StageKey("field", "field path", "Required. The array field; each element makes one record."),
        StageKey("as", "field path", "Where each element goes (the array field is then removed); default: it replaces `field`."),
    ]
    static let dedupeKeys = [
        StageKey("key", "expression", "Required. What identifies a record; the first in input order wins, a null key is kept. Strings compare by content, other values by their JSON text, so `1` and `1.0` (or objects with members in another order) are different keys; normalise with `int()`/`string()` when that matters."),
        StageKey("max_keys", "int", "Distinct keys remembered before the run fails (default 1000000; ~100 bytes each)."),
    ]
    static let sampleKeys = [
        StageKey("rate", "number 0…1", "Required. The fraction of records kept."),
        StageKey("key", "expression", "Required. Hashed to choose the records, so the choice is the same every run."),
    ]
    static let limitKeys = [StageKey("(value)", "int", "How many records to keep, the first in input order. Records of an input file that later fails as a whole count towards the limit though they are withheld, so the output can hold fewer (the same on every run).")]
    static let lookupKeys = [
        StageKey("file", "string", "Required. The reference file (CSV with a header row, or NDJSON), loaded once at config load and held in memory; relative to the config file's directory."),
        StageKey("format", "string", "`csv` or `ndjson`; default: from the extension (`.csv`; `.ndjson`, `.jsonl`, `.json`)."),
        StageKey("key", "expression", "Required. The value looked up; compared as text (a string's content, a number's JSON text). Null or missing is a miss."),
        StageKey("key_column", "string", "Required. The reference column (CSV) or field path (NDJSON) holding each row's key."),
        StageKey("fields", "mapping output field → column", "The columns written on a hit. CSV values are strings (use `cast` after). Exclusive with `into`."),
        StageKey("into", "field path", "The field that receives the whole row as an object. Exclusive with `fields`."),
        StageKey("on_miss", "string", "`keep` (default: unchanged), `drop` (filtered), `error` (the record fails, naming the key) or `default`."),
        StageKey("default", "mapping column → string", "The row used on a miss under `on_miss: default`; columns it leaves out are null."),
        StageKey("duplicates", "string", "A key on two rows: `error` (default: config error naming both lines) or `first` (the first row wins)."),
        StageKey("max_rows", "int", "Most rows the reference may hold (default 1000000); more is a config error. Each row costs about 100 bytes plus its key and written values (100,000 rows with two short columns: ~20 MB)."),
    ]
    static let flattenKeys = [
        StageKey("separator", "string", "Joins the keys of a path (default `.`)."),
        StageKey("arrays", "string", "`keep` (default: arrays are values) or `index` (elements become `key.0`, `key.1`, …)."),
    ]
    static let unflattenKeys = [
        StageKey("separator", "string", "Splits top-level keys into paths (default `.`)."),
        StageKey("arrays", "string", "`keep` (default: numeric keys stay object keys) or `index` (an object with keys 0, 1, … becomes an array)."),
    ]
}
