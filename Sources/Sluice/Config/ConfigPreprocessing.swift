import Foundation
import Yams
import SluiceStages

/// Rewrites a config's YAML tree before it is read: `${VAR}` interpolation from the
/// environment, then `--set key.path=value` overrides.
///
/// Both work on the tree, not the text, so marks (line and column) of untouched nodes
/// stay exact, and an override cannot break the YAML around it.
enum ConfigPreprocessing {
    /// Replaces `${VAR}` and `${VAR:-default}` in every scalar value (not in keys).
    /// `$$` is a literal `$`. An unset variable without a default is a problem at its
    /// scalar; so is an unclosed `${`.
    static func interpolate(_ node: Yams.Node, environment: [String: String], diagnostics: ConfigDiagnostics) -> Yams.Node {
        switch node {
        case .scalar(var scalar):
            guard scalar.string.contains("$") else { return node }
            var problems: [String] = []
            let text = expand(scalar.string, environment: environment, problems: &problems)
            for problem in problems { diagnostics.report(problem, at: scalar.mark) }
            if text != scalar.string {
                // A value that came from the environment is typed by what it says: `"${N}"`
                // (quoted so YAML keeps the braces) set to 4 is the integer 4.
                scalar.string = text
                scalar.style = .plain
            }
            return .scalar(scalar)
        case .mapping(let mapping):
            let pairs = mapping.map { ($0.key, interpolate($0.value, environment: environment, diagnostics: diagnostics)) }
            return .mapping(Yams.Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let sequence):
            let nodes = sequence.map { interpolate($0, environment: environment, diagnostics: diagnostics) }
            return .sequence(Yams.Node.Sequence(nodes, sequence.tag, sequence.style, sequence.mark))
        case .alias:
            return node
        }
    }

    /// Expands one string; problems are appended as messages.
    static func expand(_ text: String, environment: [String: String], problems: inout [String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest.index(after: dollar)
            if after < rest.endIndex, rest[after] == "$" {
                out += "$"
                rest = rest[rest.index(after: after)...]
                continue
            }
            guard after < rest.endIndex, rest[after] == "{" else {
                out += "$"
                rest = rest[after...]
                continue
            }
            guard let close = rest[after...].firstIndex(of: "}") else {
                problems.append("unclosed '${' in '\(text)'")
                return text
            }
            let body = rest[rest.index(after: after)..<close]
            let name: Substring
            var fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
            }
            if name.isEmpty || !name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                problems.append("'${\(body)}' is not a variable reference (use ${NAME} or ${NAME:-default})")
            } else if let value = environment[String(name)], !(fallback != nil && value.isEmpty) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                problems.append("environment variable \(name) is not set (write ${\(name):-default} to give a default)")
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    /// Applies `key.path=value` overrides. A path walks mapping keys; inside `stages`
    /// a segment names a stage by its `name` (or its 0-based index). The value is read
    /// as YAML, so `--set input.include='[a, b]'` sets a list.
    static func applyOverrides(_ overrides: [String], to root: Yams.Node, diagnostics: ConfigDiagnostics) -> Yams.Node {
        var root = root
        for override in overrides {
            guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                diagnostics.report("--set \(override): expected KEY.PATH=VALUE", at: nil)
                continue
            }
            let path = override[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let text = String(override[override.index(after: equals)...])
            var value: Yams.Node = .scalar(.init(text))
            if let parsed = try? Yams.compose(yaml: text) { value = parsed }
            if path.contains(where: \.isEmpty) {
                diagnostics.report("--set \(override): empty key in the path", at: nil)
                continue
            }
            var resolved = ""
            if let updated = set(value, at: path[...], in: root, override: override, resolved: &resolved, diagnostics: diagnostics) {
                root = updated
                diagnostics.overridden.append((resolved, override))
            }
        }
        return root
    }

    /// `value` with every mark replaced by `mark`: an override's problems point at the
    /// place in the file it overrode, not at line 1 of the `--set` text.
    private static func relocate(_ value: Yams.Node, to mark: Mark?) -> Yams.Node {
        switch value {
        case .scalar(var scalar):
            scalar.mark = mark
            return .scalar(scalar)
        case .mapping(let mapping):
            return .mapping(Yams.Node.Mapping(mapping.map { (relocate($0.key, to: mark), relocate($0.value, to: mark)) }, mapping.tag, mapping.style, mark))
        case .sequence(let sequence):
            return .sequence(Yams.Node.Sequence(sequence.map { relocate($0, to: mark) }, sequence.tag, sequence.style, mark))
        case .alias:
            return value
        }
    }

    /// `node` with `value` at `path`; `resolved` gets the key path as config messages
    /// write it (`stages[1].workers`). A null value removes the key, so its default applies.
    private static func set(_ value: Yams.Node, at path: ArraySlice<String>, in node: Yams.Node, override: String,
                            resolved: inout String, diagnostics: ConfigDiagnostics) -> Yams.Node? {
        guard let key = path.first else { return relocate(value, to: node.mark) }
        let clears = path.count == 1 && value.scalar.map { ["null", "~", ""].contains($0.string) && $0.style == .plain } == true
        switch node {
        case .mapping(let mapping):
            resolved += resolved.isEmpty ? key : ".\(key)"
            var pairs = Array(mapping.map { ($0.key, $0.value) })
            if let i = pairs.firstIndex(where: { $0.0.scalar?.string == key }) {
                if clears {
                    pairs.remove(at: i)
                } else {
                    guard let child = set(value, at: path.dropFirst(), in: pairs[i].1, override: override, resolved: &resolved,
                                          diagnostics: diagnostics) else { return nil }
                    pairs[i].1 = child
                }
            } else if !clears {
                let empty: Yams.Node = .mapping(Yams.Node.Mapping([]))
                let child = path.count == 1 ? relocate(value, to: mapping.mark)
                    : set(value, at: path.dropFirst(), in: empty, override: override, resolved: &resolved, diagnostics: diagnostics)
                guard let child else { return nil }
                pairs.append((.scalar(.init(key)), child))
            }
            return .mapping(Yams.Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let sequence):
            var nodes = Array(sequence)
            let index = nodes.firstIndex { $0.mapping?["name"]?.scalar?.string == key } ?? Int(key).flatMap { $0 >= 0 && $0 < nodes.count ? $0 : nil }
            guard let index else {
                diagnostics.report("--set \(override): no list item named '\(key)'", at: sequence.mark)
                return nil
            }
            resolved += "[\(index)]"
            guard let child = set(value, at: path.dropFirst(), in: nodes[index], override: override, resolved: &resolved,
                                  diagnostics: diagnostics) else { return nil }
            nodes[index] = child
            return .sequence(Yams.Node.Sequence(nodes, sequence.tag, sequence.style, sequence.mark))
        case .scalar, .alias:
            diagnostics.report("--set \(override): '\(key)' is inside a value that is not a mapping", at: node.mark)
            return nil
        }
    }
}
