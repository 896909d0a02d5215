import SluiceCore

/// An expression over one record, compiled once at config load and evaluated per record.
///
/// ## Language
///
/// - Literals: `null`, `true`, `false`, integers (64-bit), decimals (`1.5`, `2e3`),
///   strings in double or single quotes with JSON escapes (plus `\'`).
/// - Field paths: `status`, `customer.id`, `items[0].sku`, `items[-1]` (from the end),
///   `meta["odd key"]`. A missing field — or a step into something that is not an object
///   or array — reads as `null`.
/// - Operators, loosest first: `||`; `&&`; `==` `!=`; `<` `<=` `>` `>=`; `+` `-`;
///   `*` `/` `%`; unary `!` `-`. Parentheses group. Comparisons do not chain
///   (`a < b < c` is a compile error).
/// - Arrays: `[1, "a", total]`; `x in [..]` tests membership; `items[*].price` reads the
///   array of every element's `price` (for `sum`, `count`, `join`, ...).
/// - Functions: see ``ExpressionFunction/all`` and docs/expressions.md (generated).
///
/// ## Semantics
///
/// - `==` / `!=` compare by value and never fail: numbers numerically (`1 == 1.0`),
///   strings by their unescaped UTF-8 bytes, arrays element-wise, objects by keys and
///   values regardless of member order; values of different types are unequal;
///   `null == null` is true, so `missing == null` is true.
/// - `<` `<=` `>` `>=` order two numbers (exactly, across int and double) or two strings
///   (by UTF-8 bytes, i.e. code point order). If either side is null (or missing) the
///   result is `null` — unknown, as in SQL — so a filter drops the record and `!` does not
///   turn it into true. Ordering other values (bools, arrays, a string with a number) is
///   a record error: it is a data or config bug that should not pass silently.
/// - `&&`, `||`, `!` use three-valued logic with null as unknown: `false && x` is false
///   and `true || x` is true without evaluating `x` (short-circuit); `null && true` is
///   null, `null || true` is true, `!null` is null. Any operand that is not a bool or
///   null is an error.
/// - Arithmetic needs numbers: null, strings and the rest are an error (`total * 100` on
///   a record without `total` fails the record; it is not silently 0). `+` also joins two
///   strings. Int op int is an int for `+ - * %`; an int result beyond 64 bits is an error
///   ("integer overflow"), never a silent switch to inexact doubles. `/` always gives a
///   double (`7 / 2` is 3.5). Any double operand makes the result a double; a non-finite
///   result is an error. `/` or `%` by zero is the error "division by zero". `%` takes the
///   sign of the dividend.
/// - Errors while evaluating are record errors of kind `transform`; their message says
///   what was wrong and quotes the sub-expression (`'*' needs numbers, got null and int
///   in 'total * 100'`).
///
/// ## Cost
///
/// Reading fields and comparing them, `len`, `round` and arithmetic allocate nothing per
/// record: fields are looked up on the tape and strings compared in place. Joining
/// strings, and reading strings that contain escapes for `<`-style comparisons or `len`,
/// allocate.
///
/// ```swift
/// let keep = try CompiledExpression("status != \"cancelled\" && total > 0")
/// let value = try keep.evaluate(record: root, in: view)   // .bool(true)
/// ```
public struct CompiledExpression: Sendable, CustomStringConvertible {
    /// The expression's text as written in the config.
    public let source: String
    let root: Node

    /// Compiles `source`.
    ///
    /// - Throws: ``ExpressionError`` for a syntax error, an unknown function, a wrong
    ///   argument count, or an operation that is wrong whatever the record (`"a" * 2`,
    ///   `1 / 0`), with the 1-based column of the problem.
    public init(_ source: String) throws(ExpressionError) {
        try self.init(source, fields: nil)
    }

    /// Compiles `source`, giving each field path made of keys a slot in `fields` (the
    /// stage's builder), so that a stage can resolve them all in one pass per record and
    /// pass the slots to ``evaluate(record:in:now:resolved:)``.
    package init(_ source: String, fields: FieldSetBuilder?) throws(ExpressionError) {
        self.source = source
        let syntax = try Parser.parse(source)
        var compiler = ExpressionCompiler(source: source, fields: fields)
        root = try compiler.compile(syntax)
    }

    /// The path, when the expression is nothing but a field path (`customer.id`).
    public var fieldPath: FieldPath? {
        (root as? PathNode)?.path
    }

    /// What the compiler knows the result to be, before any record.
    var staticType: StaticType { root.staticType }

    /// Evaluates the expression on the record whose root node is `root`.
    ///
    /// - Throws: ``EvaluationError`` (a record error of kind `transform`).
    @inline(__always)
    public func evaluate(record root: Int, in view: JSONView, now: Double = 0) throws(EvaluationError) -> ExpressionValue {
        try self.root.evaluate(EvaluationContext(view: view, root: root, now: now))
    }

    /// Evaluates the expression with the record's slots as resolved by the ``FieldSet``
    /// of the builder it was compiled with (nil: every path is looked up on its own).
    @inline(__always)
    package func evaluate(record root: Int, in view: JSONView, now: Double = 0, resolved: UnsafePointer<Int>?) throws(EvaluationError) -> ExpressionValue {
        try self.root.evaluate(EvaluationContext(view: view, root: root, now: now, resolved: resolved))
    }

    public var description: String { source }
}

/// Builds evaluation nodes from syntax, checking what can be checked before any record.
struct ExpressionCompiler {
    private let scalars: [Unicode.Scalar]
    private let fields: FieldSetBuilder?

    init(source: String, fields: FieldSetBuilder? = nil) {
        scalars = Array(source.unicodeScalars)
        self.fields = fields
    }

    private func text(_ syntax: Syntax) -> String {
        String(String.UnicodeScalarView(scalars[(syntax.column - 1)..<(syntax.endColumn - 1)]))
    }

    mutating func compile(_ syntax: Syntax) throws(ExpressionError) -> Node {
        try fold(try build(syntax, lazily: false), lazily: false)
    }

    /// Evaluates a constant subtree now, so the record loop does not redo the work.
    ///
    /// A constant that cannot be evaluated is a config error when it is always evaluated;
    /// when it may be skipped (`lazily`: the right side of `&&` / `||`, as in
    /// `false && 1 / 0 == 1`) it is left for evaluation, which short-circuits past it.
    private func fold(_ node: Node, lazily: Bool) throws(ExpressionError) -> Node {
        guard node.isConstant, !(node is LiteralNode) else { return node }
        let value: ExpressionValue
        do {
            value = try ExpressionCompiler.evaluateConstant(node)
        } catch {
            if lazily { return node }
            throw ExpressionError(error.message, column: node.column)
        }
        return LiteralNode(value: value, text: node.text, column: node.column)
    }

    private static func evaluateConstant(_ node: Node) throws(EvaluationError) -> ExpressionValue {
        let view = JSONView(bytes: UnsafeBufferPointer(start: nil, count: 0), tape: UnsafeBufferPointer(start: nil, count: 0))
        return try node.evaluate(EvaluationContext(view: view, root: 0))
    }

    private func build(_ syntax: Syntax, lazily: Bool) throws(ExpressionError) -> Node {
        let text = text(syntax)
        let column = syntax.column
        switch syntax.kind {
        case .literal(let literal):
            let value: ExpressionValue
            switch literal {
            case .null: value = .null
            case .bool(let b): value = .bool(b)
            case .int(let i): value = .int(i)
            case .double(let d): value = .double(d)
            case .string(let s): value = .string(s)
            }
            return LiteralNode(value: value, text: text, column: column)

        case .path(let path):
            return PathNode(path: path, fields: fields, text: text, column: column)

        case .array(let elementSyntax):
            var elements: [Node] = []
            for element in elementSyntax {
                elements.append(try fold(try build(element, lazily: lazily), lazily: lazily))
            }
            return ArrayNode(elements: elements, text: text, column: column)

        case .membership(let elementSyntax, let listSyntax):
            let element = try fold(try build(elementSyntax, lazily: lazily), lazily: lazily)
            let list = try fold(try build(listSyntax, lazily: lazily), lazily: lazily)
            if list.staticType != .array && list.staticType != .unknown && list.staticType != .null {
                throw ExpressionError("'in' needs an array on its right, got \(list.staticType.name)", column: list.column,
                                      hint: "write a list such as [\"a\", \"b\"]")
            }
            return MembershipNode(element: element, list: list, text: text, column: column)

        case .unary(let symbol, let operandSyntax):
            let operand = try fold(try build(operandSyntax, lazily: lazily), lazily: lazily)
            if symbol == .not {
                try reject(operand, ifOneOf: [.number, .string], operator: "!", needs: "a bool")
                return NotNode(operand: operand, text: text, column: column)
            }
            try reject(operand, ifOneOf: [.null, .bool, .string], operator: "-", needs: "a number")
            return NegateNode(operand: operand, text: text, column: column)

        case .binary(let symbol, let leftSyntax, let rightSyntax):
            let left = try fold(try build(leftSyntax, lazily: lazily), lazily: lazily)
            // The right side of `&&` / `||` is not evaluated when the left decides.
            let rightIsLazy = lazily || symbol == .and || symbol == .or
            let right = try fold(try build(rightSyntax, lazily: rightIsLazy), lazily: rightIsLazy)
            switch symbol {
            case .and, .or:
                for operand in [left, right] {
                    try reject(operand, ifOneOf: [.number, .string], operator: symbol.rawValue, needs: "bools")
                }
                return LogicNode(isAnd: symbol == .and, left: left, right: right, text: text, column: column)
            case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
                let op = CompareNode.Operator(rawValue: symbol.rawValue)!
                if op != .equal && op != .notEqual {
                    for operand in [left, right] where operand.staticType == .null {
                        throw ExpressionError("'\(op.rawValue)' with null is never true", column: operand.column,
                                              hint: "use '==' or '!=' to test for null")
                    }
                    let types = [left.staticType, right.staticType]
                    if types.contains(.bool) {
                        throw ExpressionError("cannot order bools with '\(op.rawValue)'", column: column)
                    }
                    if types == [.number, .string] || types == [.string, .number] {
                        throw ExpressionError("cannot compare \(left.staticType.name) with \(right.staticType.name) using '\(op.rawValue)'",
                                              column: column)
                    }
                }
                return CompareNode(op: op, left: left, right: right, text: text, column: column)
            case .plus, .minus, .times, .divide, .remainder:
                let op = ArithmeticNode.Operator(rawValue: symbol.rawValue)!
                if op == .add {
                    for operand in [left, right] {
                        try reject(operand, ifOneOf: [.null, .bool], operator: "+", needs: "two numbers or two strings")
                    }
                    let types = [left.staticType, right.staticType]
                    if types == [.number, .string] || types == [.string, .number] {
                        throw ExpressionError("'+' needs two numbers or two strings, got \(left.staticType.name) and \(right.staticType.name)",
                                              column: column)
                    }
                } else {
                    for operand in [left, right] {
                        try reject(operand, ifOneOf: [.null, .bool, .string], operator: op.rawValue, needs: "numbers")
                    }
                }
                if !lazily, op == .divide || op == .remainder, let divisor = right as? LiteralNode,
                   divisor.value == .int(0) || divisor.value == .double(0) {
                    throw ExpressionError("division by zero in '\(text)'", column: column)
                }
                return ArithmeticNode(op: op, left: left, right: right, text: text, column: column)
            default:
                throw ExpressionError("unexpected '\(symbol.rawValue)'", column: column)
            }

        case .call(let name, let argumentSyntax):
            guard let function = ExpressionFunction.named(name) else {
                let suggestion = ExpressionHints.functionAlias(for: name)
                    ?? ExpressionCompiler.closest(to: name, among: ExpressionFunction.all.map(\.name))
                throw ExpressionError("unknown function '\(name)'", column: column,
                                      hint: suggestion.map { "did you mean '\($0)'?" })
            }
            guard function.arity.contains(argumentSyntax.count) else {
                let expected = function.arity.lowerBound == function.arity.upperBound
                    ? "\(function.arity.lowerBound) argument\(function.arity.lowerBound == 1 ? "" : "s")"
                    : "\(function.arity.lowerBound) to \(function.arity.upperBound) arguments"
                throw ExpressionError("\(name)() takes \(expected), got \(argumentSyntax.count)", column: column)
            }
            var arguments: [Node] = []
            for (k, argument) in argumentSyntax.enumerated() {
                // Arguments a lazy function may skip (`if`'s branches, `coalesce`'s
                // fallbacks) must not fail compilation for what they would do if evaluated.
                let argumentIsLazy = lazily || (function.isLazy && k > 0)
                let node = try fold(try build(argument, lazily: argumentIsLazy), lazily: argumentIsLazy)
                if function.rejectedArgumentTypes.contains(node.staticType) {
                    throw ExpressionError("\(name)() does not take a \(node.staticType.name)", column: node.column)
                }
                arguments.append(node)
            }
            var payload: AnyObject?
            if let prepare = function.prepare {
                do {
                    payload = try prepare(arguments)
                } catch {
                    throw ExpressionError("\(name)(): \(error.message)", column: error.column == 0 ? column : error.column, hint: error.hint)
                }
            }
            return CallNode(function: function, arguments: arguments, payload: payload, text: text, column: column)
        }
    }

    private func reject(_ operand: Node, ifOneOf types: [StaticType], operator op: String, needs: String) throws(ExpressionError) {
        if types.contains(operand.staticType) {
            throw ExpressionError("'\(op)' needs \(needs), got \(operand.staticType.name)", column: operand.column)
        }
    }

    /// The candidate within a small edit distance of `name`, for "did you mean".
    static func closest(to name: String, among candidates: [String]) -> String? {
        let limit = max(1, min(2, name.count / 3))
        return candidates
            .map { ($0, editDistance(Array(name.unicodeScalars), Array($0.unicodeScalars))) }
            .filter { $0.1 <= limit }
            .min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
