import Foundation
import SluiceCore

/// The value rules of `validate`: numeric ranges, enums, patterns, lengths and
/// expression rules. Like `types`, the field rules pass a missing or null field (list it
/// in `required` to demand it).
extension ValidateStage {
    /// One entry of `ranges` or `lengths`: inclusive bounds, either may be absent.
    public struct BoundsRule: Sendable, Equatable {
        public var field: String
        public var min: Double?
        public var max: Double?

        public init(field: String, min: Double? = nil, max: Double? = nil) {
            self.field = field
            self.min = min
            self.max = max
        }
    }

    /// One entry of `enums`: the values a field may take, compared as text (a string by
    /// its content, a number or boolean by its JSON text, so `1` allows `1` and `"1"`).
    public struct EnumRule: Sendable, Equatable {
        public var field: String
        public var values: [String]

        public init(field: String, values: [String]) {
            self.field = field
            self.values = values
        }
    }

    /// One entry of `rules`: an expression that must be `true`, and the message that
    /// names it when it is not.
    public struct ExpressionRule: Sendable, Equatable {
        public var expression: String
        /// Default: `rule '<expression>' failed`.
        public var message: String?

        public init(expression: String, message: String? = nil) {
            self.expression = expression
            self.message = message
        }
    }

    /// A compiled value rule.
    enum ValueCheck: Sendable {
        case range(min: Double?, max: Double?)
        case oneOf(Set<[UInt8]>, shown: String)
        case pattern(RegexPayload, source: String)
        case length(min: Double?, max: Double?)
    }

    struct CompiledValueRule: Sendable {
        let path: PathLookup
        let name: String
        let check: ValueCheck
    }

    struct CompiledExpressionRule: Sendable {
        let expression: CompiledExpression
        let label: String
    }

    /// Compiles the value and expression rules of `config`, adding problems.
    static func compileValueRules(_ config: Config, problems: inout [StageConfigProblem]) -> ([CompiledValueRule], [CompiledExpressionRule]) {
        var rules: [CompiledValueRule] = []
        func path(_ field: String, _ keyPath: [String]) -> PathLookup? {
            do {
                let parsed = try FieldPath(parsing: field)
                if parsed.hasWildcard {
                    problems.append(StageConfigProblem(keyPath: keyPath, message: "'\(field)' must name one field (no [*])"))
                    return nil
                }
                return PathLookup(parsed)
            } catch {
                problems.append(StageConfigProblem(keyPath: keyPath, message: "bad field path: \(error.description)"))
                return nil
            }
        }
        func bounds(_ rule: BoundsRule, _ group: String, isLength: Bool) {
            let keyPath = [kind, group, rule.field]
            if rule.min == nil && rule.max == nil {
                problems.append(StageConfigProblem(keyPath: keyPath, message: "needs 'min', 'max' or both"))
            }
            if let min = rule.min, let max = rule.max, min > max {
                problems.append(StageConfigProblem(keyPath: keyPath, message: "min \(format(min)) is above max \(format(max))"))
            }
            guard let p = path(rule.field, keyPath) else { return }
            rules.append(CompiledValueRule(path: p, name: rule.field,
                                           check: isLength ? .length(min: rule.min, max: rule.max) : .range(min: rule.min, max: rule.max)))
        }
        for rule in config.ranges { bounds(rule, "ranges", isLength: false) }
        for rule in config.enums {
            let keyPath = [kind, "enums", rule.field]
            if rule.values.isEmpty { problems.append(StageConfigProblem(keyPath: keyPath, message: "needs at least one value")) }
            guard let p = path(rule.field, keyPath) else { continue }
            rules.append(CompiledValueRule(path: p, name: rule.field,
                                           check: .oneOf(Set(rule.values.map { Array($0.utf8) }), shown: rule.values.joined(separator: ", "))))
        }
        for rule in config.patterns {
            let keyPath = [kind, "patterns", rule.key]
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: rule.expression)
            } catch {
                problems.append(StageConfigProblem(keyPath: keyPath, message: "invalid regular expression '\(rule.expression)'"))
                continue
            }
            guard let p = path(rule.key, keyPath) else { continue }
            rules.append(CompiledValueRule(path: p, name: rule.key, check: .pattern(RegexPayload(regex), source: rule.expression)))
        }
        for rule in config.lengths {
            if (rule.min ?? 0) < 0 { problems.append(StageConfigProblem(keyPath: [kind, "lengths", rule.field], message: "min must be 0 or more")) }
            bounds(rule, "lengths", isLength: true)
        }
        var expressions: [CompiledExpressionRule] = []
        for (i, rule) in config.rules.enumerated() {
            do {
                expressions.append(CompiledExpressionRule(expression: try CompiledExpression(rule.expression),
                                                          label: rule.message ?? "rule '\(rule.expression)' failed"))
            } catch {
                problems.append(StageConfigProblem(keyPath: [kind, "rules", String(i), "expr"], error))
            }
        }
        return (rules, expressions)
    }

    /// `1e6` → `1000000`, `0.5` → `0.5`.
    static func format(_ bound: Double) -> String {
        bound == bound.rounded() && abs(bound) <= 9_007_199_254_740_992 ? String(Int64(bound)) : String(bound)
    }

    /// Why `node` breaks `rule`, or nil when it passes.
    static func violation(of rule: CompiledValueRule, node: Int, view: JSONView) -> String? {
        let entry = view.tape[node]
        if entry.kind == .null { return nil }
        switch rule.check {
        case .range(let min, let max):
            guard let number = view.number(node) else {
                return "field '\(rule.name)' must be a number for its range, got \(ValueType(node: node, in: view).rawValue)"
            }
            let shown = String(decoding: view.rawBytes(node), as: UTF8.self)
            // Exact across int and double: 2^53 + 1 is above a maximum of 2^53.
            if let min, Equality.compare(number, .double(min)) < 0 { return "field '\(rule.name)' is \(shown), below the minimum \(format(min))" }
            if let max, Equality.compare(number, .double(max)) > 0 { return "field '\(rule.name)' is \(shown), above the maximum \(format(max))" }
            return nil
        case .oneOf(let values, let shown):
            var text: [UInt8] = []
            guard ReferenceTable.appendKeyText(.node(node), view: view, to: &text), values.contains(text) else {
                let value = entry.kind == .string ? "'\(view.string(node) ?? "")'" : String(decoding: view.rawBytes(node), as: UTF8.self)
                return "field '\(rule.name)' is \(value), not one of \(shown)"
            }
            return nil
        case .pattern(let payload, let source):
            guard let s = view.string(node) else {
                return "field '\(rule.name)' must be a string to match '\(source)', got \(ValueType(node: node, in: view).rawValue)"
            }
            if payload.regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil { return nil }
            return "field '\(rule.name)' does not match '\(source)'"
        case .length(let min, let max):
            let length: Int
            switch entry.kind {
            case .string: length = view.string(node)?.unicodeScalars.count ?? 0
            case .array: length = view.count(node)
            default: return "field '\(rule.name)' must be a string or an array for its length, got \(ValueType(node: node, in: view).rawValue)"
            }
            if let min, Double(length) < min { return "field '\(rule.name)' has length \(length), below the minimum \(format(min))" }
            if let max, Double(length) > max { return "field '\(rule.name)' has length \(length), above the maximum \(format(max))" }
            return nil
        }
    }

    /// Why the record breaks `rule` (anything but `true` breaks it), or nil.
    static func violation(of rule: CompiledExpressionRule, root: Int, view: JSONView, now: Double) -> String? {
        do throws(EvaluationError) {
            switch try rule.expression.evaluate(record: root, in: view, now: now) {
            case .bool(true): return nil
            case .node(let i) where view.kind(i) == .true: return nil
            default: return rule.label
            }
        } catch {
            return "\(rule.label) (\(error.message))"
        }
    }
}
