import SluiceCore

/// `flatten: { separator: ".", arrays: keep|index }` (or `flatten:` alone for the
/// defaults) — the kind's declaration (keys, docs, builder).
extension FlattenStage {
    public enum Keys {
        public static let separator = Setting.string("separator", default: ".", "Joins the keys of a path.")
        public static let arrays = Setting.choice("arrays", arrayModes, default: "keep", "`keep`: arrays are values; `index`: elements become `key.0`, `key.1`, ….")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Turn nested objects into top-level dotted keys.",
        value: .mapping([Keys.separator.key, Keys.arrays.key]), acceptsNull: true,
        example: "{ separator: _, arrays: index }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(separator: value[Keys.separator], arrays: value[Keys.arrays]))
    }
}
