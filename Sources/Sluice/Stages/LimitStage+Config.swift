/// `limit: N` — the kind's declaration (keys, docs, builder).
extension LimitStage {
    package static let stageKind = StageKind(
        name: kind, summary: "Keep the first N records in input order.",
        value: .integer(0...Int.max),
        doc: "How many records to keep, the first in input order. Records of an input file that later fails as a whole count towards the limit though they are withheld, so the output can hold fewer (the same on every run).",
        example: "25"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        try make(config: .init(count: value.intValue ?? 0))
    }
}
