/// `cast: { FIELD: TYPE, ... }` — the kind's declaration (keys, docs, builder).
extension CastStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Convert fields to int, float, string or bool; a value that does not convert fails the record.",
        // The type names are checked by `make`, whose message suggests the right one.
        value: .fields(label: "field path", .string),
        doc: "`int`, `float`, `string` or `bool`; a value that does not convert fails the record, a missing or null one is left alone.",
        example: "{ id: string, total: int }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(fields: (value.entries ?? []).fields))
    }
}
