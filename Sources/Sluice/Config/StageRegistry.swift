/// A stage kind a config can name: its key, a one-line summary, and how to build it
/// from its YAML.
public struct StageKind: Sendable {
    /// The config key that selects this kind (`filter:`).
    public var name: String
    /// One line for `--help`-style listings and generated docs.
    public var summary: String
    /// Builds the stage from the value under its key; reports problems and returns nil
    /// when it cannot. The second argument is the stage's name.
    let make: @Sendable (ConfigNode, String) -> (any Stage)?
}

/// Every stage kind, in one explicit table (Swift has no registration hook, and one
/// table is easy to read).
public enum StageRegistry {
    public static let kinds: [StageKind] = [
        StageKind(name: FilterStage.kind, summary: "Keep the records for which an expression is true.", make: makeFilter),
        StageKind(name: ValidateStage.kind, summary: "Fail records that lack required fields or have fields of the wrong type.", make: makeValidate),
        StageKind(name: SelectStage.kind, summary: "Build a new record from field paths and expressions.", make: makeSelect),
        StageKind(name: CommandStage.kind, summary: "Run records through a program of your own, as NDJSON over stdin and stdout.", make: CommandStage.make(node:name:)),
    ] + library

    public static func kind(named name: String) -> StageKind? {
        kinds.first { $0.name == name }
    }

    /// Builds a stage, mapping the problems it reports back to their YAML nodes.
    static func build<S: Stage>(_ nodes: [String: ConfigNode], fallback: ConfigNode,
                                        _ make: () throws(StageConfigError) -> S) -> S? {
        do {
            return try make()
        } catch {
            for problem in error.problems {
                let node = nodes[problem.keyPath.joined(separator: ".")] ?? fallback
                if let column = problem.column {
                    node.report(problem.message, columnInValue: column)
                } else {
                    node.report(problem.message)
                }
            }
            return nil
        }
    }

    private static func makeFilter(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let condition = node.string() else { return nil }
        return build([FilterStage.kind: node], fallback: node) { () throws(StageConfigError) in
            try FilterStage.make(config: .init(condition: condition))
        }
    }

    private static func makeValidate(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let map = node.mapping(allowed: ["required", "types"]) else { return nil }
        var nodes: [String: ConfigNode] = [ValidateStage.kind: node]
        let required = map["required"].map { $0.stringList() } ?? []
        var types: [ValidateStage.TypeRule] = []
        var typesOK = true
        if let typesNode = map["types"], let entries = typesNode.orderedMapping() {
            for (field, value, _) in entries {
                guard let type = value.string() else {
                    typesOK = false
                    continue
                }
                nodes["validate.types.\(field)"] = value
                types.append(.init(field: field, type: type))
            }
        } else if map["types"] != nil {
            typesOK = false
        }
        if let list = map["required"] { nodes["validate.required"] = list }
        guard let required, typesOK else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in
            try ValidateStage.make(config: .init(required: required, types: types))
        }
    }

    private static func makeSelect(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let entries = node.orderedMapping() else { return nil }
        var nodes: [String: ConfigNode] = [SelectStage.kind: node]
        var fields: [SelectStage.Field] = []
        var ok = true
        for (key, value, _) in entries {
            guard let expression = value.string() else {
                ok = false
                continue
            }
            nodes["select.\(key)"] = value
            fields.append(.init(key: key, expression: expression))
        }
        guard ok else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in
            try SelectStage.make(config: .init(fields: fields))
        }
    }
}
