/// `default: { FIELD: EXPRESSION, ... }` — the kind's declaration (keys, docs, builder).
extension DefaultStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Fill fields that are missing or null.",
        value: .fields(label: "field path", .expression), doc: "The value written when the field is missing or null.",
        example: #"{ status: '"unknown"', total: '0' }"#
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(fields: (value.entries ?? []).fields))
    }
}
