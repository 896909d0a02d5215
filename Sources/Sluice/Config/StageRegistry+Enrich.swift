import Foundation

/// Builders of `validate`, `lookup`, `flatten` and `unflatten`.
extension StageRegistry {
    static func makeValidate(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let map = node.mapping(allowed: validateKeys.names) else { return nil }
        var nodes: [String: ConfigNode] = [ValidateStage.kind: node]
        var ok = true
        /// The entries of a `field: value` mapping, with their nodes registered.
        func entries(_ key: String) -> [(String, ConfigNode)] {
            guard let group = map[key] else { return [] }
            nodes["validate.\(key)"] = group
            guard let list = group.orderedMapping() else {
                ok = false
                return []
            }
            return list.map { field, value, _ in
                nodes["validate.\(key).\(field)"] = value
                return (field, value)
            }
        }
        let required = map["required"].map { $0.stringList() } ?? []
        if let list = map["required"] {
            nodes["validate.required"] = list
            for (i, item) in (list.sequence() ?? []).enumerated() { nodes["validate.required.\(i)"] = item }
        }
        var types: [ValidateStage.TypeRule] = []
        for (field, value) in entries("types") {
            if let type = value.string() { types.append(.init(field: field, type: type)) } else { ok = false }
        }
        func bounds(_ key: String) -> [ValidateStage.BoundsRule] {
            entries(key).compactMap { field, value in
                guard let limits = value.mapping(allowed: ["min", "max"]) else {
                    ok = false
                    return nil
                }
                var rule = ValidateStage.BoundsRule(field: field)
                if let n = limits["min"] { rule.min = n.double(in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) }
                if let n = limits["max"] { rule.max = n.double(in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) }
                if (limits["min"] != nil && rule.min == nil) || (limits["max"] != nil && rule.max == nil) { ok = false }
                return rule
            }
        }
        let ranges = bounds("ranges")
        let lengths = bounds("lengths")
        var enums: [ValidateStage.EnumRule] = []
        for (field, value) in entries("enums") {
            if let values = value.stringList() { enums.append(.init(field: field, values: values)) } else { ok = false }
        }
        var patterns: [SelectStage.Field] = []
        for (field, value) in entries("patterns") {
            if let pattern = value.string() { patterns.append(.init(key: field, expression: pattern)) } else { ok = false }
        }
        var rules: [ValidateStage.ExpressionRule] = []
        if let list = map["rules"] {
            nodes["validate.rules"] = list
            for (i, item) in (list.sequence() ?? []).enumerated() {
                guard let rule = item.mapping(allowed: ["expr", "message"]) else {
                    ok = false
                    continue
                }
                guard let exprNode = rule["expr"] else {
                    item.report("missing required key 'expr'")
                    ok = false
                    continue
                }
                nodes["validate.rules.\(i).expr"] = exprNode
                let message = rule["message"].map { $0.string() }
                guard let expression = exprNode.string(), let message else {
                    ok = false
                    continue
                }
                rules.append(.init(expression: expression, message: message))
            }
            if list.sequence() == nil { ok = false }
        }
        guard let required, ok else { return nil }
        return build(nodes, fallback: node) { () throws(StageConfigError) in
            try ValidateStage.make(config: .init(required: required, types: types, ranges: ranges, enums: enums,
                                                 patterns: patterns, lengths: lengths, rules: rules))
        }
    }

    static func makeLookup(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let map = node.mapping(allowed: lookupKeys.names) else { return nil }
        var nodes: [String: ConfigNode] = [LookupStage.kind: node]
        for (key, value) in map { nodes["lookup.\(key)"] = value }
        var missing: [String] = []
        for key in ["file", "key", "key_column"] where map[key] == nil { missing.append(key) }
        if !missing.isEmpty {
            node.report("missing required key\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0)'" }.joined(separator: ", "))")
            return nil
        }
        func pairs(_ key: String) -> [SelectStage.Field]? {
            guard let group = map[key] else { return [] }
            guard let list = group.orderedMapping() else { return nil }
            var result: [SelectStage.Field] = []
            for (field, value, _) in list {
                nodes["lookup.\(key).\(field)"] = value
                guard let text = value.string() else { return nil }
                result.append(.init(key: field, expression: text))
            }
            return result
        }
        let file = map["file"]!.string()
        let key = map["key"]!.string()
        let keyColumn = map["key_column"]!.string()
        var format: String?? = .some(nil)
        if let n = map["format"] { format = n.string().map { .some($0) } }
        var into: String?? = .some(nil)
        if let n = map["into"] { into = n.string().map { .some($0) } }
        let fields = pairs("fields")
        let defaults = pairs("default")
        let onMiss = map["on_miss"].map { $0.choice(LookupStage.MissPolicy.allCases.map(\.rawValue)) } ?? "keep"
        let duplicates = map["duplicates"].map { $0.choice(["error", "first"]) } ?? "error"
        let maxRows = map["max_rows"].map { $0.int(in: 1...Int(Int32.max)) } ?? 1_000_000
        guard let file, let key, let keyColumn, let format, let into, let fields, let defaults, let onMiss, let duplicates, let maxRows else { return nil }
        // Relative reference paths start at the config file's directory.
        let configFile = node.diagnostics.file
        let base = configFile.isEmpty ? "" : URL(fileURLWithPath: configFile).deletingLastPathComponent().path
        return build(nodes, fallback: node) { () throws(StageConfigError) in
            try LookupStage.make(config: .init(file: file, format: format, key: key, keyColumn: keyColumn, fields: fields, into: into,
                                               onMiss: onMiss, defaults: defaults, duplicates: duplicates, maxRows: maxRows),
                                 baseDirectory: base)
        }
    }

    /// `separator` and `arrays` of `flatten` and `unflatten`; `{}` or null for the defaults.
    private static func flattenOptions(_ node: ConfigNode, kind: String, keys: [StageKey]) -> (separator: String, arrays: String, nodes: [String: ConfigNode])? {
        var nodes = [kind: node]
        if node.isNull { return (".", "keep", nodes) }
        guard let map = node.mapping(allowed: keys.names) else { return nil }
        for (key, value) in map { nodes["\(kind).\(key)"] = value }
        let separator = map["separator"].map { $0.string() } ?? "."
        let arrays = map["arrays"].map { $0.choice(FlattenStage.arrayModes) } ?? "keep"
        guard let separator, let arrays else { return nil }
        return (separator, arrays, nodes)
    }

    static func makeFlatten(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let options = flattenOptions(node, kind: FlattenStage.kind, keys: flattenKeys) else { return nil }
        return build(options.nodes, fallback: node) { () throws(StageConfigError) in
            try FlattenStage.make(config: .init(separator: options.separator, arrays: options.arrays))
        }
    }

    static func makeUnflatten(_ node: ConfigNode, _ name: String) -> (any Stage)? {
        guard let options = flattenOptions(node, kind: UnflattenStage.kind, keys: unflattenKeys) else { return nil }
        return build(options.nodes, fallback: node) { () throws(StageConfigError) in
            try UnflattenStage.make(config: .init(separator: options.separator, arrays: options.arrays))
        }
    }
}
