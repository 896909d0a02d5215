/// `drop: [FIELD, ...]` — the kind's declaration (keys, docs, builder).
extension DropStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Remove fields.",
        value: .stringList, doc: "The fields to remove (a missing field is no error).",
        example: "[items, customer.country]"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(fields: value.stringsValue ?? []))
    }
}
