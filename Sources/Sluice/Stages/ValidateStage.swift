import SluiceCore

/// Checks that records have the fields, field types and values the config demands.
///
/// A record that breaks any rule fails with kind `validation`; the message names every
/// rule it broke, in this order — `required`, `types`, `ranges`, `enums`, `patterns`,
/// `lengths`, `rules`, each in config order — separated by `; `:
/// `missing required field 'total'; field 'id' must be int, got string`.
///
/// The field rules (`types`, `ranges`, `enums`, `patterns`, `lengths`) pass a missing or
/// null field: list it in `required` to demand it. A `ranges` field must be a number
/// (bounds inclusive); an `enums` value compares as text (a string by its content, a
/// number or boolean by its JSON text); a `patterns` field must be a string that the
/// regular expression (ICU syntax, compiled once at load) matches somewhere — anchor it
/// with `^...$`; a `lengths` field is a string (length in Unicode scalars) or an array
/// (its element count). A `rules` expression must evaluate to `true`: `false`, `null`
/// (a comparison with a missing field), any other value or an evaluation error all
/// fail the rule, which is named by its `message` (default `rule '<expr>' failed`).
///
/// ```yaml
/// - name: check
///   validate:
///     required: [id, total, customer.id]
///     types: { id: int, total: number, items: array }
///     ranges: { total: { min: 0, max: 1e6 } }
///     enums: { status: [paid, shipped] }
///     patterns: { customer.email: '^[^@]+@[^@]+$' }
///     lengths: { customer.name: { min: 1, max: 200 } }
///     rules:
///       - { expr: 'len(items) > 0', message: 'an order needs items' }
/// ```
public struct ValidateStage: Stage {
    /// Configuration of `validate`.
    public struct Config: Sendable, Equatable {
        /// Field paths that must be present and not `null` (`id`, `customer.id`,
        /// `items[0].sku`).
        public var required: [String]
        /// The type each field must have when it is present and not `null`, in config
        /// order. A missing or null field passes its type rule (list it in `required` to
        /// demand it), except that type `null` rejects every non-null value.
        public var types: [TypeRule]
        /// Inclusive numeric bounds per field.
        public var ranges: [BoundsRule] = []
        /// Allowed values per field.
        public var enums: [EnumRule] = []
        /// Field path → regular expression, in config order.
        public var patterns: [SelectStage.Field] = []
        /// Inclusive length bounds per field (strings and arrays).
        public var lengths: [BoundsRule] = []
        /// Expressions that must be true.
        public var rules: [ExpressionRule] = []

        public init(required: [String] = [], types: [TypeRule] = [], ranges: [BoundsRule] = [], enums: [EnumRule] = [],
                    patterns: [SelectStage.Field] = [], lengths: [BoundsRule] = [], rules: [ExpressionRule] = []) {
            self.required = required
            self.types = types
            self.ranges = ranges
            self.enums = enums
            self.patterns = patterns
            self.lengths = lengths
            self.rules = rules
        }

        var isEmpty: Bool {
            required.isEmpty && types.isEmpty && ranges.isEmpty && enums.isEmpty && patterns.isEmpty && lengths.isEmpty && rules.isEmpty
        }
    }

    /// One entry of `types`: a field path and a type name.
    public struct TypeRule: Sendable, Equatable {
        /// The field path (`total`, `customer.id`).
        public var field: String
        /// One of `string`, `int`, `number`, `bool`, `object`, `array`, `null`.
        public var type: String

        public init(field: String, type: String) {
            self.field = field
            self.type = type
        }
    }

    /// The types a `types` rule can demand.
    public enum FieldType: String, Sendable, CaseIterable {
        /// A JSON string.
        case string
        /// An integer literal: a number written without `.`, `e` or `E`, of any size.
        /// `3.0` and `3e0` are not ints (they are numbers).
        case int
        /// Any JSON number, integer or not.
        case number
        /// `true` or `false`.
        case bool
        case object
        case array
        /// Only `null` (or a missing field).
        case null

        @inline(__always)
        func accepts(_ entry: TapeEntry) -> Bool {
            switch self {
            case .string: return entry.kind == .string
            case .int: return entry.kind == .number && entry.flags & TapeEntry.isInteger != 0
            case .number: return entry.kind == .number
            case .bool: return entry.kind == .true || entry.kind == .false
            case .object: return entry.kind == .object
            case .array: return entry.kind == .array
            case .null: return entry.kind == .null
            }
        }
    }

    public static let kind = "validate"

    struct CompiledRule: Sendable {
        let path: PathLookup
        /// The path as the config wrote it, for messages.
        let name: String
        package let type: FieldType?
        /// `path`, read per record without a retain and release (`path` keeps it alive).
        let lookup: Unmanaged<PathLookup>

        init(path: PathLookup, name: String, type: FieldType?) {
            self.path = path
            self.name = name
            self.type = type
            lookup = Unmanaged.passUnretained(path)
        }
    }

    let required: [CompiledRule]
    let types: [CompiledRule]
    var values: [CompiledValueRule] = []
    var expressions: [CompiledExpressionRule] = []
    /// Per type rule, the index of the required rule on the same field text, or -1: its
    /// lookup is reused. Found once here (comparing the names per record cost four
    /// `String` comparisons per record in the bench).
    let requiredIndexOfType: [Int]

    /// The `required` and `types` rules as one pass of checks that only says whether a
    /// record passes them all (see ``Checks``).
    private let checks: Checks

    init(required: [CompiledRule], types: [CompiledRule], values: [CompiledValueRule], expressions: [CompiledExpressionRule]) {
        self.required = required
        self.types = types
        self.values = values
        self.expressions = expressions
        requiredIndexOfType = types.map { rule in required.firstIndex { $0.name == rule.name } ?? -1 }
        checks = Checks(required: required, types: types, requiredIndexOfType: requiredIndexOfType)
    }

    /// Whether a record passes every `required` and `types` rule, decided without building
    /// a message: one lookup per field (a type rule on a required field shares its lookup),
    /// then the node's kind against a mask of the kinds all its type rules accept. A record
    /// that passes (nearly all) is kept at once when there are no other rules; any other
    /// record goes through ``failures(root:view:now:)``, which names every broken rule —
    /// so the outcome is the same either way. Laid out in one buffer of plain values, read
    /// without a retain and release per rule; the rules keep the lookups alive.
    private final class Checks: @unchecked Sendable {
        struct Check {
            let lookup: Unmanaged<PathLookup>
            /// A missing or null field fails (a `required` rule).
            let required: Bool
            /// Bit `TapeClass` set for each kind of value every type rule on the field accepts.
            let accepted: UInt16
            /// For a path of one key (`id`, `total`): the key's bytes in `keys` — looked up
            /// with one `member` call instead of a walk of the lookup's steps; -1 otherwise.
            var keyStart = -1
            var keyCount = 0
        }

        let checks: UnsafeMutableBufferPointer<Check>
        /// The one-key checks' keys, back to back.
        let keys: UnsafeMutableBufferPointer<UInt8>

        /// The class of a tape entry for `accepted`: its kind, and integers apart from
        /// other numbers.
        @inline(__always)
        static func tapeClass(_ entry: TapeEntry) -> UInt16 {
            entry.kind == .number && entry.flags & TapeEntry.isInteger != 0 ? 7 : UInt16(entry.kind.rawValue)
        }

        static func mask(_ type: FieldType) -> UInt16 {
            var mask: UInt16 = 0
            let samples: [TapeEntry] = [
                TapeEntry(kind: .null, start: 0, end: 0, next: 0), TapeEntry(kind: .false, start: 0, end: 0, next: 0),
                TapeEntry(kind: .true, start: 0, end: 0, next: 0), TapeEntry(kind: .number, start: 0, end: 0, next: 0),
                TapeEntry(kind: .string, start: 0, end: 0, next: 0), TapeEntry(kind: .array, start: 0, end: 0, next: 0),
                TapeEntry(kind: .object, start: 0, end: 0, next: 0),
                TapeEntry(kind: .number, flags: TapeEntry.isInteger, start: 0, end: 0, next: 0),
            ]
            for sample in samples where type.accepts(sample) { mask |= 1 << tapeClass(sample) }
            return mask
        }

        init(required: [CompiledRule], types: [CompiledRule], requiredIndexOfType: [Int]) {
            var list: [Check] = []
            let all: UInt16 = 0xFF
            for (k, rule) in required.enumerated() {
                var accepted = all
                for (t, typeRule) in types.enumerated() where requiredIndexOfType[t] == k {
                    if let type = typeRule.type { accepted &= Checks.mask(type) }
                }
                list.append(Check(lookup: rule.lookup, required: true, accepted: accepted))
            }
            for (t, rule) in types.enumerated() where requiredIndexOfType[t] < 0 {
                // A type rule passes a null field (only type `null` accepts nothing else).
                let accepted = rule.type.map { Checks.mask($0) | 1 << Checks.tapeClass(TapeEntry(kind: .null, start: 0, end: 0, next: 0)) } ?? all
                list.append(Check(lookup: rule.lookup, required: false, accepted: accepted))
            }
            var keyBytes: [UInt8] = []
            for k in list.indices {
                let path = list[k].lookup.takeUnretainedValue().path
                if path.steps.count == 1, case .key(let key) = path.steps[0] {
                    list[k].keyStart = keyBytes.count
                    list[k].keyCount = key.count
                    keyBytes.append(contentsOf: key)
                }
            }
            keys = .allocate(capacity: max(keyBytes.count, 1))
            _ = keys.initialize(from: keyBytes)
            let buffer = UnsafeMutableBufferPointer<Check>.allocate(capacity: max(list.count, 1))
            _ = buffer.initialize(from: list)
            checks = UnsafeMutableBufferPointer(start: buffer.baseAddress, count: list.count)
        }

        deinit {
            checks.deallocate()
            keys.deallocate()
        }

        @inline(__always)
        func pass(root: Int, view: JSONView) -> Bool {
            let tape = view.tape
            let keyBase = UnsafePointer(keys.baseAddress!)
            for k in 0..<checks.count {
                let check = checks[k]
                let found = check.keyStart >= 0
                    ? view.member(of: root, key: UnsafeBufferPointer(start: keyBase + check.keyStart, count: check.keyCount))
                    : check.lookup._withUnsafeGuaranteedRef({ $0.resolve(in: view, root: root) })
                guard let node = found else {
                    if check.required { return false }
                    continue
                }
                let entry = tape[node]
                if check.required && entry.kind == .null { return false }
                if check.accepted & (1 << Checks.tapeClass(entry)) == 0 { return false }
            }
            return true
        }
    }

    /// Builds the stage, parsing every field path and type name.
    ///
    /// - Throws: ``StageConfigError`` listing every bad path (with its column), unknown
    ///   type name (with a suggestion), or an empty rule set.
    public static func make(config: Config) throws(StageConfigError) -> ValidateStage {
        var problems: [StageConfigProblem] = []
        var required: [CompiledRule] = []
        var types: [CompiledRule] = []
        for (i, field) in config.required.enumerated() {
            do {
                required.append(CompiledRule(path: PathLookup(try FieldPath(parsing: field)), name: field, type: nil))
            } catch {
                problems.append(StageConfigProblem(keyPath: [kind, "required", String(i)], error))
            }
        }
        for rule in config.types {
            let keyPath = [kind, "types", rule.field]
            var path: FieldPath?
            do {
                path = try FieldPath(parsing: rule.field)
            } catch {
                problems.append(StageConfigProblem(keyPath: keyPath, error))
            }
            guard let type = FieldType(rawValue: rule.type) else {
                let names = FieldType.allCases.map(\.rawValue)
                var message = "unknown type '\(rule.type)' (expected one of \(names.joined(separator: ", ")))"
                if let guess = ExpressionCompiler.closest(to: rule.type, among: names) ?? ["integer": "int", "float": "number", "double": "number", "boolean": "bool", "str": "string", "list": "array", "map": "object"][rule.type] {
                    message += "; did you mean '\(guess)'?"
                }
                problems.append(StageConfigProblem(keyPath: keyPath, message: message))
                continue
            }
            if let path { types.append(CompiledRule(path: PathLookup(path), name: rule.field, type: type)) }
        }
        let (values, expressions) = compileValueRules(config, problems: &problems)
        if config.isEmpty {
            problems.append(StageConfigProblem(keyPath: [kind], message: "validate needs at least one rule in 'required', 'types', 'ranges', 'enums', 'patterns', 'lengths' or 'rules'"))
        }
        guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        return ValidateStage(required: required, types: types, values: values, expressions: expressions)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let onlyFieldRules = values.isEmpty && expressions.isEmpty
        // Unmanaged: `self` keeps it alive, and the record loop reads it without a retain.
        let checks = Unmanaged.passUnretained(self.checks)
        batch.siftRecords(context: context, failKind: .validation) { view, root in
            if onlyFieldRules && checks._withUnsafeGuaranteedRef({ $0.pass(root: root, view: view) }) { return .keep }
            if let failures = failures(root: root, view: view, now: context.now) {
                return .fail(.validation, failures)
            }
            return .keep
        }
    }

    /// Every broken rule of one record, joined; nil when the record passes.
    ///
    /// Allocates only for a failing record.
    func failures(root: Int, view: JSONView, now: Double = 0) -> String? {
        var message: String?
        // Rules are read in place (binding `for rule in required` copies each one, a retain
        // and release of its lookup and its name per record), and a type rule on a field
        // that is also required reuses that field's lookup (`id`, `total` in the bench).
        let requiredCount = required.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: requiredCount) { found in
            required.withUnsafeBufferPointer { requiredRules in
                for k in 0..<requiredCount {
                    guard let node = requiredRules[k].lookup._withUnsafeGuaranteedRef({ $0.resolve(in: view, root: root) }) else {
                        found[k] = -1
                        Self.add("missing required field '\(requiredRules[k].name)'", to: &message)
                        continue
                    }
                    found[k] = node
                    if view.kind(node) == .null { Self.add("required field '\(requiredRules[k].name)' is null", to: &message) }
                }
                types.withUnsafeBufferPointer { rules in
                    for k in rules.indices {
                        guard let type = rules[k].type else { continue }
                        // The same text names the same path (no second lookup).
                        let same = requiredIndexOfType[k]
                        let resolved = same >= 0 ? (found[same] >= 0 ? found[same] : nil) : rules[k].lookup._withUnsafeGuaranteedRef({ $0.resolve(in: view, root: root) })
                        guard let node = resolved else { continue }
                        let entry = view.tape[node]
                        if entry.kind == .null || type.accepts(entry) { continue }
                        Self.add("field '\(rules[k].name)' must be \(type.rawValue), got \(ValueType(node: node, in: view).rawValue)", to: &message)
                    }
                }
            }
        }
        for rule in values {
            guard let node = rule.path.resolve(in: view, root: root) else { continue }
            if let text = Self.violation(of: rule, node: node, view: view) { Self.add(text, to: &message) }
        }
        for rule in expressions {
            if let text = Self.violation(of: rule, root: root, view: view, now: now) { Self.add(text, to: &message) }
        }
        return message
    }

    /// Joins one more broken rule onto the record's message. A static function taking the
    /// message inout (not a nested function capturing it): a captured variable used inside
    /// the closures above is boxed and checked for exclusivity at run time per access.
    private static func add(_ text: String, to message: inout String?) {
        if message == nil { message = text } else { message! += "; " + text }
    }
}
