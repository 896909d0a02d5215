/// `rename: { FROM: TO, ... }` — the kind's declaration (keys, docs, builder).
extension RenameStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Move fields to new names, keeping their values byte for byte.",
        value: .fields(label: "field path", .fieldPath),
        doc: "The field to move and its new path; values are kept byte for byte. Paths may not overlap, so two fields cannot be swapped in one stage (use two stages and a temporary name).",
        example: "{ status: state, customer.id: customer_id }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(fields: (value.entries ?? []).fields.map { (from: $0.key, to: $0.expression) }))
    }
}
