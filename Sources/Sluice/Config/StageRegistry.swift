/// A stage kind a config can name: its key, a one-line summary, and how to build it
/// from its YAML.
public struct StageKind: Sendable {
    /// The config key that selects this kind (`filter:`).
    public var name: String
    /// One line for `--help`-style listings and generated docs.
    public var summary: String
    /// Its config keys, for the generated docs and the builder's allowed keys.
    public var keys: [StageKey] = []
    /// Builds the stage from the value under its key; reports problems and returns nil
    /// when it cannot. The second argument is the stage's name.
    let make: @Sendable (ConfigNode, String) -> (any Stage)?
}

/// Every stage kind, in one explicit table (Swift has no registration hook, and one
/// table is easy to read).
public enum StageRegistry {
    public static let kinds: [StageKind] = [
        StageKind(name: FilterStage.kind, summary: "Keep the records for which an expression is true.", keys: filterKeys, make: makeFilter),
        StageKind(name: ValidateStage.kind, summary: "Fail records that lack required fields or break type, range, enum, pattern, length or expression rules.", keys: validateKeys, make: makeValidate),
        StageKind(name: SelectStage.kind, summary: "Build a new record from field paths and expressions.", keys: selectKeys, make: makeSelect),
        StageKind(name: CommandStage.kind, summary: "Run records through a program of your own, as NDJSON over stdin and stdout.", keys: commandKeys, make: CommandStage.make(node:name:)),
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
