import SluiceCore

/// What the compiler knows about a node's result before any record is seen.
enum StaticType: Equatable {
    /// Depends on the record (a field, or an operator over fields).
    case unknown
    /// Always null, bool (or null), a number, or a string.
    case null, bool, number, string, array

    var name: String {
        switch self {
        case .unknown: return "value"
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        }
    }
}

/// One node of a compiled expression.
///
/// Compiled trees are built once at config load and shared by every worker thread; nodes
/// are immutable after construction (every stored property is a `let`), which is why the
/// unchecked `Sendable` is sound. Subclasses override ``evaluate(_:)``.
package class Node: @unchecked Sendable {
    /// The node's source text, for error messages.
    let text: String
    let column: Int
    let staticType: StaticType

    init(text: String, column: Int, staticType: StaticType) {
        self.text = text
        self.column = column
        self.staticType = staticType
    }

    func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        fatalError("Node.evaluate must be overridden")
    }

    /// Whether the node is a constant (its value does not depend on the record).
    var isConstant: Bool { false }
}

// Immutable after construction, as every `Node` (see above).
final class LiteralNode: Node, @unchecked Sendable {
    let value: ExpressionValue

    init(value: ExpressionValue, text: String, column: Int) {
        self.value = value
        let type: StaticType
        switch value {
        case .null: type = .null
        case .bool: type = .bool
        case .int, .double: type = .number
        case .string: type = .string
        case .array: type = .array
        case .node: type = .unknown
        }
        super.init(text: text, column: column, staticType: type)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue { value }
    override var isConstant: Bool { true }
}

// Immutable after construction, as every `Node` (see above).
final class PathNode: Node, @unchecked Sendable {
    let lookup: PathLookup
    var path: FieldPath { lookup.path }

    /// Whether the path has `[*]` and so reads an array of values.
    let isWildcard: Bool

    init(path: FieldPath, fields: FieldSetBuilder? = nil, text: String, column: Int) {
        self.lookup = PathLookup(path, fields: fields)
        self.isWildcard = path.hasWildcard
        super.init(text: text, column: column, staticType: .unknown)
    }

    @inline(__always)
    func resolve(_ context: EvaluationContext) -> Int? {
        lookup.resolve(in: context.view, root: context.root, resolved: context.resolved)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        if isWildcard {
            var values: [ExpressionValue] = []
            let found = try lookup.forEach(in: context.view, root: context.root) { (node: Int?) throws(EvaluationError) in
                values.append(node.map { PathNode.value(of: $0, context.view) } ?? .null)
            }
            return found ? .array(values) : .null
        }
        guard let node = resolve(context) else { return .null }
        return PathNode.value(of: node, context.view)
    }

    @inline(__always)
    static func value(of node: Int, _ view: JSONView) -> ExpressionValue {
        switch view.kind(node) {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        default: return .node(node)
        }
    }
}

/// `!x`: three-valued (`!null` is null).
final class NotNode: Node, @unchecked Sendable {
    let operand: Node

    init(operand: Node, text: String, column: Int) {
        self.operand = operand
        super.init(text: text, column: column, staticType: .bool)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        switch try operand.evaluate(context) {
        case .bool(let b): return .bool(!b)
        case .null: return .null
        case let other:
            throw EvaluationError("'!' needs a bool, got \(other.type(in: context.view).rawValue) in '\(text)'")
        }
    }

    override var isConstant: Bool { operand.isConstant }
}

/// `-x`.
final class NegateNode: Node, @unchecked Sendable {
    let operand: Node

    init(operand: Node, text: String, column: Int) {
        self.operand = operand
        super.init(text: text, column: column, staticType: .number)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        let value = try operand.evaluate(context)
        switch value.number(in: context.view) {
        case .int(let v)?:
            let (negated, overflow) = Int64(0).subtractingReportingOverflow(v)
            if overflow { throw EvaluationError("integer overflow in '\(text)'") }
            return .int(negated)
        case .double(let v)?:
            guard v.isFinite else { throw EvaluationError("number out of range in '\(text)'") }
            return .double(-v)
        case nil:
            throw EvaluationError("'-' needs a number, got \(value.type(in: context.view).rawValue) in '\(text)'")
        }
    }

    override var isConstant: Bool { operand.isConstant }
}

/// `a && b` and `a || b`: short-circuit, three-valued (Kleene) logic with null as unknown.
final class LogicNode: Node, @unchecked Sendable {
    let isAnd: Bool
    let left: Node
    let right: Node

    init(isAnd: Bool, left: Node, right: Node, text: String, column: Int) {
        self.isAnd = isAnd
        self.left = left
        self.right = right
        super.init(text: text, column: column, staticType: .bool)
    }

    @inline(__always)
    private func truth(_ value: ExpressionValue, _ context: EvaluationContext) throws(EvaluationError) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .null: return nil
        default:
            throw EvaluationError("'\(isAnd ? "&&" : "||")' needs bools, got \(value.type(in: context.view).rawValue) in '\(text)'")
        }
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        // `&&` is decided by a false operand, `||` by a true one.
        let decisive = !isAnd
        let l = try truth(try left.evaluate(context), context)
        if l == decisive { return .bool(decisive) }
        let r = try truth(try right.evaluate(context), context)
        if r == decisive { return .bool(decisive) }
        if l == nil || r == nil { return .null }
        return .bool(!decisive)
    }

    override var isConstant: Bool { left.isConstant && right.isConstant }
}

/// A call of a function from ``ExpressionFunction/all``.
final class CallNode: Node, @unchecked Sendable {
    let function: ExpressionFunction
    let arguments: [Node]
    /// What the function prepared at compile time (a compiled regular expression, a
    /// parsed time format), or nil.
    let payload: AnyObject?

    /// `arguments[0]`, read without a retain and release of the array and the node per
    /// call (`arguments` keeps it alive).
    private let firstArgument: Unmanaged<Node>?

    /// The built-ins called directly rather than through ``ExpressionFunction/evaluate``
    /// (the table's closures call the same code, so the result is the same either way).
    enum Builtin { case none, len, round }
    private let builtin: Builtin
    /// `arguments[0]` when it is a field and a number literal (`round(total * 100)`).
    private let arithmeticArgument: Unmanaged<ArithmeticNode>?
    /// `arguments[0]` when it is a single field (`len(items)`).
    private let pathArgument: Unmanaged<PathNode>?

    init(function: ExpressionFunction, arguments: [Node], payload: AnyObject? = nil, text: String, column: Int) {
        self.function = function
        self.arguments = arguments
        self.payload = payload
        firstArgument = arguments.first.map { Unmanaged.passUnretained($0) }
        switch function.name {
        case "len" where arguments.count == 1: builtin = .len
        case "round" where arguments.count == 1: builtin = .round
        default: builtin = .none
        }
        arithmeticArgument = (arguments.first as? ArithmeticNode).map { Unmanaged.passUnretained($0) }
        pathArgument = (arguments.first as? PathNode).flatMap { $0.isWildcard ? nil : Unmanaged.passUnretained($0) }
        super.init(text: text, column: column, staticType: function.resultType)
    }

    /// `round(x)`, as documented in ``ExpressionFunction/core``.
    @inline(__always)
    func evaluateRound(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        let number: JSONNumber
        var fast: JSONNumber?
        if let arithmeticArgument {
            do {
                fast = try arithmeticArgument._withUnsafeGuaranteedRef { try $0.fastNumber(context) }
            } catch let error as EvaluationError {
                throw error
            } catch {
                // Unreachable (the closure throws only EvaluationError); an error, never a crash.
                throw EvaluationError("\(error) in '\(text)'")
            }
        }
        if let fast {
            number = fast
        } else {
            let value = try evaluateFirstArgument(context)
            guard let n = value.number(in: context.view) else {
                throw EvaluationError("round() needs a number, got \(value.type(in: context.view).rawValue) in '\(text)'")
            }
            number = n
        }
        switch number {
        case .int(let v):
            return .int(v)
        case .double(let v):
            let rounded = v.rounded(.toNearestOrAwayFromZero)
            // 2^63 is the first double that does not fit; -2^63 fits.
            guard rounded >= -9_223_372_036_854_775_808.0, rounded < 9_223_372_036_854_775_808.0 else {
                throw EvaluationError("round() result is beyond the 64-bit integer range in '\(text)'")
            }
            return .int(Int64(rounded))
        }
    }

    /// Whether this is the built-in `round(x)` with its one argument.
    var isRound: Bool { builtin == .round }

    /// For `len(path)` where the path has a slot in its stage's ``FieldSet``: that slot
    /// (the caller may then count an array or object node itself, as ``evaluateLen(_:)``
    /// does); -1 otherwise.
    var lengthOfPathSlot: Int {
        guard builtin == .len, let pathArgument else { return -1 }
        return pathArgument._withUnsafeGuaranteedRef { $0.lookup.slot }
    }

    /// `len(x)`, as documented in ``ExpressionFunction/core``.
    @inline(__always)
    func evaluateLen(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        let view = context.view
        let value: ExpressionValue
        if let pathArgument {
            guard let node = pathArgument._withUnsafeGuaranteedRef({ $0.resolve(context) }) else {
                throw EvaluationError("len() needs a string, array or object, got null in '\(text)'")
            }
            let kind = view.kind(node)
            if kind == .array || kind == .object { return .int(Int64(view.count(node))) }
            value = PathNode.value(of: node, view)
        } else {
            value = try evaluateFirstArgument(context)
        }
        if case .array(let values) = value { return .int(Int64(values.count)) }
        if case .node(let i) = value, view.kind(i) == .array || view.kind(i) == .object {
            return .int(Int64(view.count(i)))
        }
        // UTF-8 has exactly one non-continuation byte per scalar.
        if let count = value.withStringBytes(in: view, { bytes in bytes.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) } }) {
            return .int(Int64(count))
        }
        throw EvaluationError("len() needs a string, array or object, got \(value.type(in: view).rawValue) in '\(text)'")
    }

    /// Evaluates the first argument (the function's arity guarantees there is one).
    @inline(__always)
    func evaluateFirstArgument(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        guard let firstArgument else { return try arguments[0].evaluate(context) }
        do {
            return try firstArgument._withUnsafeGuaranteedRef { try $0.evaluate(context) }
        } catch let error as EvaluationError {
            throw error
        } catch {
            // Unreachable (the closure throws only EvaluationError); an error, never a crash.
            throw EvaluationError("\(error) in '\(text)'")
        }
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        switch builtin {
        case .round: return try evaluateRound(context)
        case .len: return try evaluateLen(context)
        case .none: return try function.evaluate(self, context)
        }
    }

    override var isConstant: Bool { function.isFoldable && arguments.allSatisfy(\.isConstant) }
}
