import SluiceCore

/// `select: { FIELD: EXPRESSION, ... }` — the kind's declaration (keys, docs, builder).
extension SelectStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Build a new record from field paths and expressions.",
        value: .fields(label: "output field", .expression),
        doc: "Each output field and the expression of its value; the new record has only these fields, in this order.",
        example: "{ id: id, customer: customer.id, cents: 'round(total * 100)' }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(fields: (value.entries ?? []).fields))
    }
}

extension [ConfigEntry] {
    /// `key: text` entries as fields (an expression, a field path or a word per key), in
    /// document order: the shape of `select`, `set`, `cast`, `default`, `rename` and
    /// the mappings of `validate` and `lookup`.
    var fields: [SelectStage.Field] {
        map { SelectStage.Field(key: $0.key, expression: $0.value.stringValue ?? "") }
    }
}
