/// `set: { FIELD: EXPRESSION, ... }` — the kind's declaration (keys, docs, builder).
extension SetStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Add or overwrite fields with the values of expressions; keep the rest.",
        value: .fields(label: "field path", .expression),
        doc: "The field to add or overwrite and its value; every expression reads the input record.",
        example: #"{ region: 'if(customer.country == "DE", "eu", "other")', seen: 'true' }"#
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(fields: (value.entries ?? []).fields))
    }
}
