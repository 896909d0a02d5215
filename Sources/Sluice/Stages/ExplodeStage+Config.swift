import SluiceCore

/// `explode: { field: PATH, as: PATH }` — the kind's declaration (keys, docs, builder).
extension ExplodeStage {
    enum Keys {
        static let field = Setting.required("field", .fieldPath, "The array field; each element makes one record.")
        static let target = Setting.optional("as", .fieldPath, "Where each element goes (the array field is then removed); default: it replaces `field`.")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Make one record per element of an array field, with the parent's other fields.",
        value: .mapping([Keys.field.key, Keys.target.key]),
        example: "{ field: items, as: item }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(field: value.required(Keys.field) ?? "", target: value[Keys.target]))
    }
}
