import SluiceCore

/// `unflatten: { separator: ".", arrays: keep|index }` (or `unflatten:` alone for the
/// defaults) — the kind's declaration (keys, docs, builder).
extension UnflattenStage {
    public enum Keys {
        public static let separator = Setting.string("separator", default: ".", "Splits top-level keys into paths.")
        public static let arrays = Setting.choice("arrays", FlattenStage.arrayModes, default: "keep", "`keep`: numeric keys stay object keys; `index`: an object with keys 0, 1, … becomes an array.")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Turn dotted top-level keys back into nested objects.",
        value: .mapping([Keys.separator.key, Keys.arrays.key]), acceptsNull: true,
        example: "{}"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(separator: value[Keys.separator], arrays: value[Keys.arrays]))
    }
}
