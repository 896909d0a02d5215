import SluiceCore

/// `validate: { required, types, ranges, enums, patterns, lengths, rules }` — the kind's
/// declaration (keys, docs, builder).
extension ValidateStage {
    enum Keys {
        static let anyNumber = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        static let min = Setting.number("min", anyNumber, "Inclusive lower bound.")
        static let max = Setting.number("max", anyNumber, "Inclusive upper bound.")
        static let bounds = ConfigType.mapping([min.key, max.key])
        static let expr = Setting.required("expr", .expression, "Must be `true`.")
        static let message = Setting.optional("message", .string, "Names the failed rule (default `rule '<expr>' failed`).")

        static let required = Setting.stringList("required", "Fields that must be present and not null.")
        // Type names are checked by `make`, whose message suggests the right one.
        static let types = Setting.fields("types", label: "field", .string, "`string`, `int`, `number`, `bool`, `object`, `array` or `null`; a missing or null field passes.")
        static let ranges = Setting.fields("ranges", label: "field", bounds, "Inclusive numeric bounds (either may be left out); a non-number fails.")
        static let enums = Setting.fields("enums", label: "field", .stringList, "Allowed values, compared as text (`1` allows `1` and `\"1\"`).")
        static let patterns = Setting.fields("patterns", label: "field", .string, "A regular expression (ICU) the string must match somewhere; anchor with `^...$`. Compiled at load.")
        static let lengths = Setting.fields("lengths", label: "field", bounds, "Inclusive bounds on a string's length (Unicode scalars) or an array's element count.")
        static let rules = Setting.list("rules", of: .mapping([expr.key, message.key]), "Expressions that must be `true`; false, null, another value or an error fail the rule, named by `message` (default `rule '<expr>' failed`).")
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Fail records that lack required fields or break type, range, enum, pattern, length or expression rules.",
        value: .mapping([Keys.required.key, Keys.types.key, Keys.ranges.key, Keys.enums.key, Keys.patterns.key, Keys.lengths.key, Keys.rules.key]),
        example: "{ required: [id, total], types: { id: int, total: number }, ranges: { total: { min: 0 } }, rules: [{ expr: 'total < 250', message: too big }] }"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        func bounds(_ entries: [ConfigEntry]) -> [BoundsRule] {
            entries.map { BoundsRule(field: $0.key, min: $0.value[Keys.min], max: $0.value[Keys.max]) }
        }
        return try make(config: .init(
            required: value[Keys.required],
            types: value[Keys.types].fields.map { TypeRule(field: $0.key, type: $0.expression) },
            ranges: bounds(value[Keys.ranges]),
            enums: value[Keys.enums].map { EnumRule(field: $0.key, values: $0.value.stringsValue ?? []) },
            patterns: value[Keys.patterns].fields,
            lengths: bounds(value[Keys.lengths]),
            rules: value[Keys.rules].map { ExpressionRule(expression: $0.required(Keys.expr) ?? "", message: $0[Keys.message]) }))
    }
}
