/// Builders of the stage library (`set`, `rename`, `drop`, `cast`, `default`, `explode`,
/// `dedupe`, `sample`, `limit`; `lookup`, `flatten`, `unflatten` and `validate` are in
/// StageRegistry+Enrich.swift), kept apart from the core table so it stays short.
extension StageRegistry {
    static let library: [StageKind] = [
        StageKind(name: SetStage.kind, summary: "Add or overwrite fields with the values of expressions; keep the rest.", keys: setKeys, make: makeSet),
        StageKind(name: RenameStage.kind, summary: "Move fields to new names, keeping their values byte for byte.", keys: renameKeys, make: makeRename),
        StageKind(name: DropStage.kind, summary: "Remove fields.", keys: dropKeys, make: makeDrop),
        StageKind(name: CastStage.kind, summary: "Convert fields to int, float, string or bool; a value that does not convert fails the record.", keys: castKeys, make: makeCast),
        StageKind(name: DefaultStage.kind, summary: "Fill fields that are missing or null.", keys: defaultKeys, make: makeDefault),
        StageKind(name: ExplodeStage.kind, summary: "Make one record per element of an array field, with the parent's other fields.", keys: explodeKeys, make: makeExplode),
        StageKind(name: DedupeStage.kind, summary: "Drop records whose key was seen earlier in the run (first in input order wins).", keys: dedupeKeys, make: makeDedupe),
        StageKind(name: SampleStage.kind, summary: "Keep a deterministic fraction of records, chosen by a hash of a key.", keys: sampleKeys, make: makeSample),
        StageKind(name: LookupStage.kind, summary: "Enrich records from a CSV or NDJSON reference file loaded once, by key.", keys: lookupKeys, make: makeLookup),
        StageKind(name: FlattenStage.kind, summary: "Turn nested objects into top-level dotted keys.", keys: flattenKeys, make: makeFlatten),
        StageKind(name: UnflattenStage.kind, summary: "Turn dotted top-level keys back into nested objects.", keys: unflattenKeys, make: makeUnflatten),
        StageKind(name: LimitStage.kind, summary: "Keep the first N records in input order.", keys: limitKeys, make: makeLimit),
    ]

    /// `key: expression` entries of a mapping, in order, with their nodes.
    private static func fields(_ node: ConfigNode, kind: String, nodes: inout [String: ConfigNode]) -> [SelectStage.Field]? {
        guard let entries = node.orderedMapping() else { return nil }
        var fields: [SelectStage.Field] = []
        var ok = true
        for (key, value, _) in entries {
            guard let text = value.string() else {
                ok = false
                continue
            }
            nodes["\(kind).\(key)"] = value
            fields.append(.init(key: key, expression: text))
        }
        return ok ? fields : nil
    }

    private static func makeSet(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        var nodes = [SetStage.kind: node]
        guard let fields = fields(node, kind: SetStage.kind, nodes: &nodes) else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in try SetStage.make(config: .init(fields: fields)) }
    }

    private static func makeDefault(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        var nodes = [DefaultStage.kind: node]
        guard let fields = fields(node, kind: DefaultStage.kind, nodes: &nodes) else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in try DefaultStage.make(config: .init(fields: fields)) }
    }

    private static func makeCast(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        var nodes = [CastStage.kind: node]
        guard let fields = fields(node, kind: CastStage.kind, nodes: &nodes) else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in try CastStage.make(config: .init(fields: fields)) }
    }

    private static func makeRename(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        var nodes = [RenameStage.kind: node]
        guard let fields = fields(node, kind: RenameStage.kind, nodes: &nodes) else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in
            try RenameStage.make(config: .init(fields: fields.map { (from: $0.key, to: $0.expression) }))
        }
    }

    private static func makeDrop(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let list = node.stringList() else { return nil }
        var nodes = [DropStage.kind: node]
        for (i, item) in (node.sequence() ?? []).enumerated() { nodes["\(DropStage.kind).\(i)"] = item }
        return build(nodes, fallback: node) { () throws(StageConfigError) in try DropStage.make(config: .init(fields: list)) }
    }

    private static func makeExplode(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let map = node.mapping(allowed: explodeKeys.names) else { return nil }
        guard let fieldNode = map["field"] else {
            node.report("missing required key 'field'")
            return nil
        }
        guard let field = fieldNode.string() else { return nil }
        var target: String?? = .some(nil)
        if let n = map["as"] { target = n.string().map { .some($0) } }
        guard let target else { return nil }
        let nodes = ["explode": node, "explode.field": fieldNode, "explode.as": map["as"] ?? node]
        return build(nodes, fallback: node) { () throws(StageConfigError) in try ExplodeStage.make(config: .init(field: field, target: target)) }
    }

    private static func makeDedupe(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let map = node.mapping(allowed: dedupeKeys.names) else { return nil }
        guard let keyNode = map["key"] else {
            node.report("missing required key 'key'")
            return nil
        }
        let key = keyNode.string()
        let maxKeys = map["max_keys"].map { $0.int(in: 1...Int(Int32.max)) } ?? 1_000_000
        guard let key, let maxKeys else { return nil }
        let nodes = ["dedupe": node, "dedupe.key": keyNode, "dedupe.max_keys": map["max_keys"] ?? node]
        return build(nodes, fallback: node) { () throws(StageConfigError) in try DedupeStage.make(config: .init(key: key, maxKeys: maxKeys)) }
    }

    private static func makeSample(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let map = node.mapping(allowed: sampleKeys.names) else { return nil }
        guard let rateNode = map["rate"], let keyNode = map["key"] else {
            node.report("sample needs 'rate' and 'key'")
            return nil
        }
        guard let rate = rateNode.double(in: 0...1), let key = keyNode.string() else { return nil }
        let nodes = ["sample": node, "sample.key": keyNode, "sample.rate": rateNode]
        return build(nodes, fallback: node) { () throws(StageConfigError) in try SampleStage.make(config: .init(rate: rate, key: key)) }
    }

    private static func makeLimit(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let count = node.int(in: 0...Int.max) else { return nil }
        return build(["limit": node], fallback: node) { () throws(StageConfigError) in try LimitStage.make(config: .init(count: count)) }
    }
}
