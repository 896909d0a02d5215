import SluiceCore

/// `sample: { rate: 0..1, key: EXPRESSION }` — the kind's declaration (keys, docs, builder).
extension SampleStage {
    enum Keys {
        static let rate = Setting.number("rate", 0...1, required: true, "The fraction of records kept.")
        static let key = Setting.required("key", .expression, "Hashed to choose the records, so the choice is the same every run.")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Keep a deterministic fraction of records, chosen by a hash of a key.",
        value: .mapping([Keys.rate.key, Keys.key.key]),
        example: "{ rate: 0.5, key: id }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(rate: value.required(Keys.rate) ?? 0, key: value.required(Keys.key) ?? ""))
    }
}
