import Yams
import SluiceCore
import SluiceStages

/// `output.columns` of a CSV output: each entry a field path or expression (its header
/// is its text: `customer.id`, `coalesce(created, "")`) or a mapping
/// `{name: HEADER, value: EXPRESSION}` naming the header; one string is a list of one.
///
/// ```yaml
/// columns: [id, {name: customer, value: customer.id}, {name: created, value: 'coalesce(created, "")'}]
/// ```
enum CSVColumnsConfig {
    static let name = ConfigKey("name", .string, "The column's header.", required: true)
    static let value = ConfigKey("value", .expression, "The field path or expression that fills the column.", required: true)
    static let keys = [name, value]

    /// The type `output.columns` declares.
    static let type = ConfigType.list(.oneOf([.expression, .mapping(keys)]))

    /// Reads `node` into headers and expression texts (nil after reporting a problem at
    /// its line); `compile` compiles one value node and reports its own errors.
    static func read(_ node: ConfigNode, compile: (ConfigNode) -> CompiledExpression?) -> [(header: String, text: String, compiled: CompiledExpression)]? {
        let items: [ConfigNode]
        if case .scalar = node.node, !node.isNull {
            items = [node]
        } else {
            guard let list = node.sequence() else { return nil }
            items = list
        }
        if items.isEmpty {
            node.report("expected at least one column")
            return nil
        }
        var columns: [(header: String, text: String, compiled: CompiledExpression)] = []
        var ok = true
        for item in items {
            if item.isMapping {
                var nodes: [String: ConfigNode] = [:]
                guard let value = item.read(.mapping(keys), keyPath: "columns", nodes: &nodes), case .mapping(let entries) = value,
                      let header = entries.first(where: { $0.key == name.name })?.value.stringValue,
                      let text = entries.first(where: { $0.key == Self.value.name })?.value.stringValue,
                      let valueNode = nodes["columns.value"] else { ok = false; continue }
                if let compiled = compile(valueNode) { columns.append((header, text, compiled)) } else { ok = false }
            } else {
                guard let text = item.string() else { ok = false; continue }
                if let compiled = compile(item) { columns.append((text, text, compiled)) } else { ok = false }
            }
        }
        return ok ? columns : nil
    }
}
