/// `filter: EXPRESSION` — the kind's declaration (keys, docs, builder).
extension FilterStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Keep the records for which an expression is true.",
        value: .expression, doc: "The condition; a record is kept when it is `true` (null and false drop it).",
        example: #"'status != "cancelled"'"#
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(condition: value.stringValue ?? ""))
    }
}
