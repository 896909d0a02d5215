import SluiceCore

/// `dedupe: { key: EXPRESSION, max_keys: N }` — the kind's declaration (keys, docs, builder).
extension DedupeStage {
    public enum Keys {
        public static let key = Setting.required("key", .expression, "What identifies a record; the first in input order wins, a null key is kept. Strings compare by content, other values by their JSON text, so `1` and `1.0` (or objects with members in another order) are different keys; normalise with `int()`/`string()` when that matters.")
        public static let maxKeys = Setting.integer("max_keys", 1...Int(Int32.max), default: 1_000_000, "Distinct keys remembered before the run fails (~100 bytes each).")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Drop records whose key was seen earlier in the run (first in input order wins).",
        value: .mapping([Keys.key.key, Keys.maxKeys.key]),
        example: "{ key: customer.id }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(key: value.required(Keys.key) ?? "", maxKeys: value[Keys.maxKeys]))
    }
}
