import Foundation
import SluiceCore

/// Reading through the key table: one reader per ``ConfigType``, so a range, a choice
/// or a default is written once, in the ``Setting`` or ``ConfigKey`` that declares it.
extension ConfigNode {
    /// Reads this node as `type`, reporting every problem (wrong shape, out of range,
    /// unknown or missing key) at its line and column; nil after a problem.
    ///
    /// - Parameters:
    ///   - keyPath: this node's key path from the stage kind down (`lookup.fields`),
    ///     under which it and every node inside it are recorded in `nodes`, so problems
    ///     a stage builder reports by key path land on the right line.
    func read(_ type: ConfigType, keyPath: String, nodes: inout [String: ConfigNode]) -> ConfigValue? {
        nodes[keyPath] = self
        switch type {
        case .string, .expression, .fieldPath:
            return string().map(ConfigValue.string)
        case .integer(let range):
            return int(in: range).map(ConfigValue.int)
        case .number(let range):
            return double(in: range).map(ConfigValue.number)
        case .boolean:
            return bool().map(ConfigValue.bool)
        case .choice(let words):
            return choice(words).map(ConfigValue.string)
        case .stringList:
            if case .sequence(let items) = node {
                for i in items.indices { nodes["\(keyPath).\(i)"] = ConfigNode(node: items[i], path: "\(path)[\(i)]", diagnostics: diagnostics) }
            }
            return stringList().map(ConfigValue.strings)
        case .arguments:
            if case .scalar = node, !isNull {
                report("expected a list such as [python3, enrich.py]; a string is not split into arguments (write [sh, -c, '...'] for a shell command)")
                return nil
            }
            return stringList().map(ConfigValue.strings)
        case .byteSize(let range):
            return byteSize(in: range).map(ConfigValue.int)
        case .duration(let range):
            guard let range else { return duration().map(ConfigValue.seconds) }
            return duration(in: range).map { .seconds(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
        case .workers:
            return PipelineConfig.workerCount(self).map(ConfigValue.int)
        case .mapping(let keys):
            guard let map = mapping(allowed: keys.map(\.name)) else { return nil }
            let missing = keys.filter { $0.isRequired && map[$0.name] == nil }
            if !missing.isEmpty {
                var message = "missing required key\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0.name)'" }.joined(separator: ", "))"
                if missing.count == 1, let hint = missing[0].missingHint { message += " (\(hint))" }
                report(message)
            }
            var entries: [ConfigEntry] = []
            var ok = missing.isEmpty
            for key in keys {
                guard let child = map[key.name] else { continue }
                if let value = child.read(key.type, keyPath: "\(keyPath).\(key.name)", nodes: &nodes) {
                    entries.append(ConfigEntry(key: key.name, value: value))
                } else {
                    ok = false
                }
            }
            return ok ? .mapping(entries) : nil
        case .fields(_, let valueType):
            guard let list = orderedMapping() else { return nil }
            var entries: [ConfigEntry] = []
            var ok = true
            for (key, child, _) in list {
                if let value = child.read(valueType, keyPath: "\(keyPath).\(key)", nodes: &nodes) {
                    entries.append(ConfigEntry(key: key, value: value))
                } else {
                    ok = false
                }
            }
            return ok ? .mapping(entries) : nil
        case .list(let element):
            guard let items = sequence() else { return nil }
            var values: [ConfigValue] = []
            var ok = true
            for (i, item) in items.enumerated() {
                if let value = item.read(element, keyPath: "\(keyPath).\(i)", nodes: &nodes) { values.append(value) } else { ok = false }
            }
            return ok ? .list(values) : nil
        case .oneOf(let types):
            let isMappingType: (ConfigType) -> Bool = { if case .mapping = $0 { true } else { false } }
            let chosen = isMapping ? types.first(where: isMappingType) : types.first { !isMappingType($0) }
            guard let chosen = chosen ?? types.first else { return nil }
            return read(chosen, keyPath: keyPath, nodes: &nodes)
        case .any:
            return .null
        }
    }
}

extension [String: ConfigNode] {
    /// The value of `setting` in this mapping, read through its type; its default when
    /// the key is absent; nil after reporting a problem (a required key that is absent
    /// is the caller's to report, with the mapping's own place).
    func read<T>(_ setting: Setting<T>) -> T? {
        guard let node = self[setting.name] else { return setting.defaultValue }
        var nodes: [String: ConfigNode] = [:]
        return node.read(setting.key.type, keyPath: setting.name, nodes: &nodes).flatMap(setting.value(of:))
    }
}
