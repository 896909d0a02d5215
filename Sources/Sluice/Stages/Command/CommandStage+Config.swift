extension CommandStage {
    /// Builds the stage from the value under `command:`: a list (the argv), or a mapping
    /// with `run` (the argv) and the options (see ``Config``). Reports every problem at
    /// its YAML node and returns nil when the stage cannot be built.
    static func make(node: ConfigNode, name: String) -> (any Stage)? {
        var nodes: [String: ConfigNode] = [kind: node]
        var config = Config(argv: [])
        var ok = true
        switch node.node {
        case .sequence, .scalar:
            guard let argv = argvList(node) else { return nil }
            config.argv = argv
        case .mapping:
            guard let map = node.mapping(allowed: keys) else { return nil }
            if let run = map["run"] {
                nodes["\(kind).run"] = run
                if let argv = argvList(run) { config.argv = argv } else { ok = false }
            } else {
                node.report("missing required key 'run' (the program and its arguments)")
                ok = false
            }
            let durations: ClosedRange<Duration> = .milliseconds(1)...(.seconds(24 * 3600))
            if let value = map["timeout"] {
                if let timeout = value.duration(in: durations) { config.timeout = timeout } else { ok = false }
            }
            if let value = map["stop_grace"] {
                if let grace = value.duration(in: .zero...(.seconds(3600))) { config.stopGrace = grace } else { ok = false }
            }
            if let value = map["max_restarts"] {
                if let restarts = value.int(in: 0...1_000_000) { config.maxRestarts = restarts } else { ok = false }
            }
            if let value = map["cwd"] {
                if let cwd = value.string() { config.workingDirectory = cwd } else { ok = false }
            }
            if let value = map["env"] {
                nodes["\(kind).env"] = value
                if let entries = value.orderedMapping() {
                    for (key, entry, _) in entries {
                        if let text = entry.string() { config.environment[key] = text } else { ok = false }
                    }
                } else {
                    ok = false
                }
            }
        default:
            node.report("expected the program and its arguments as a list, e.g. [python3, enrich.py], or a mapping with 'run'")
            return nil
        }
        guard ok else { return nil }
        do {
            return try CommandStage.make(config: config)
        } catch {
            for problem in error.problems {
                (nodes[problem.keyPath.joined(separator: ".")] ?? node).report(problem.message)
            }
            return nil
        }
    }

    /// A list of strings; a single string is refused rather than split, because its
    /// quoting would be a guess.
    private static func argvList(_ node: ConfigNode) -> [String]? {
        if case .scalar = node.node, !node.isNull {
            node.report("expected a list such as [python3, enrich.py]; a string is not split into arguments (write [sh, -c, '...'] for a shell command)")
            return nil
        }
        return node.stringList()
    }
}
